#!/usr/bin/env bash
# Regenerates FFM bindings for include/flashlm.h with jextract, where jextract exists, into
# target/jextract, to compare with the hand-written java/main/io/flashlm/nativeabi/FlashNative.java
# (jextract cannot be obtained on our build machines, so the checked-in bindings are written by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jextract >/dev/null || { echo "jextract is not on PATH; get it from jdk.java.net/jextract" >&2; exit 1; }
rm -rf target/jextract
jextract --output target/jextract --target-package io.flashlm.nativeabi.generated \
  --library flashlm --header-class-name flashlm_h include/flashlm.h
echo "generated target/jextract; diff its flashlm_h against FlashNative by hand"

# Sourced by ./flashlm, ./build and .ci/run: sets JAVA_HOME to a JDK >= 22 (the FFM API).
# Order: $JAVA_HOME if it is recent enough, else the newest suitable JDK in /usr/lib/jvm
# (or $FLASHLM_JVM_DIR). Prints a clear message and returns 1 when there is none.

flashlm_jdk_major() { # prints the feature version of the JDK at $1, or nothing
  local release="$1/release" v
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  fi
  echo "$v"
}

flashlm_find_jdk() {
  local min=22 best="" best_v=0 d v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(flashlm_jdk_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$min" ]; then export JAVA_HOME; return 0; fi
    echo "flashlm: JAVA_HOME=$JAVA_HOME is not a JDK >= $min (found '${v:-none}'); looking elsewhere" >&2
  fi
  for d in "${FLASHLM_JVM_DIR:-/usr/lib/jvm}"/*; do
    [ -d "$d" ] && [ ! -L "$d" ] || continue
    v=$(flashlm_jdk_major "$d")
    if [ -n "$v" ] && [ "$v" -ge "$min" ] && [ "$v" -gt "$best_v" ]; then best="$d"; best_v="$v"; fi
  done
  if [ -z "$best" ]; then
    echo "flashlm: no JDK >= $min found (checked JAVA_HOME and ${FLASHLM_JVM_DIR:-/usr/lib/jvm})." >&2
    echo "flashlm: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
    return 1
  fi
  export JAVA_HOME="$best"
}

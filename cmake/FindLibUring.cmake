# FindLibUring
# ------------
# Finds the STATIC liburing (liburing.a), so that libflashlm.so carries its own copy and
# does not depend on the liburing.so version of the machine it runs on.
#
# Result variables:
#   LibUring_FOUND, LibUring_VERSION (when pkg-config knows it),
#   LibUring_INCLUDE_DIR, LibUring_STATIC_LIBRARY
# Imported target:
#   LibUring::LibUring (STATIC IMPORTED)

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_LIBURING QUIET liburing)
endif()

find_path(LibUring_INCLUDE_DIR
  NAMES liburing.h
  HINTS ${PC_LIBURING_INCLUDEDIR} ${PC_LIBURING_INCLUDE_DIRS})

# Name the archive explicitly: a bare "uring" would happily pick liburing.so.
find_library(LibUring_STATIC_LIBRARY
  NAMES liburing.a
  HINTS ${PC_LIBURING_LIBDIR} ${PC_LIBURING_LIBRARY_DIRS})

if(PC_LIBURING_VERSION)
  set(LibUring_VERSION "${PC_LIBURING_VERSION}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibUring
  REQUIRED_VARS LibUring_STATIC_LIBRARY LibUring_INCLUDE_DIR
  VERSION_VAR LibUring_VERSION)

if(LibUring_FOUND AND NOT TARGET LibUring::LibUring)
  add_library(LibUring::LibUring STATIC IMPORTED)
  set_target_properties(LibUring::LibUring PROPERTIES
    IMPORTED_LOCATION "${LibUring_STATIC_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LibUring_INCLUDE_DIR}")
endif()

mark_as_advanced(LibUring_INCLUDE_DIR LibUring_STATIC_LIBRARY)

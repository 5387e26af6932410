# Cross-building hetmap for 64-bit Arm Linux boards (RK3399Pro, A311D, Jetson) on Debian 12
# x86-64 (docs/boards.md). Compiler: g++-aarch64-linux-gnu. Libraries: Debian's arm64 multiarch
# packages under /usr/lib/aarch64-linux-gnu (libarm-compute-dev:arm64, libfmt-dev:arm64, ...),
# plus HETMAP_AARCH64_SYSROOT for packages that are not Multi-Arch and so cannot be installed
# beside their amd64 copy (libyaml-cpp-dev: scripts/aarch64-sysroot.sh unpacks it there).
# Binaries run here under qemu-aarch64-static (tests, gtest discovery).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

if(NOT HETMAP_AARCH64_SYSROOT AND DEFINED ENV{HETMAP_AARCH64_SYSROOT})
  set(HETMAP_AARCH64_SYSROOT "$ENV{HETMAP_AARCH64_SYSROOT}")
endif()
set(HETMAP_AARCH64_SYSROOT "${HETMAP_AARCH64_SYSROOT}" CACHE PATH
    "Folder with arm64 packages unpacked by dpkg -x (scripts/aarch64-sysroot.sh)")
# try_compile projects see only this file: hand them the sysroot too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES HETMAP_AARCH64_SYSROOT)

# Search the unpacked packages first, then the host's multiarch folders (lib/aarch64-linux-gnu
# through CMAKE_LIBRARY_ARCHITECTURE; architecture-independent headers such as Eigen's and
# nlohmann-json's under /usr/include and /usr/share). Programs are the host's.
set(CMAKE_FIND_ROOT_PATH "${HETMAP_AARCH64_SYSROOT}" /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# libc6:arm64 (a dependency of the arm64 packages) puts the loader and libraries where
# qemu-aarch64-static finds them without -L.
find_program(HETMAP_QEMU_AARCH64 qemu-aarch64-static)
if(HETMAP_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${HETMAP_QEMU_AARCH64}")
endif()

# The host's MPI wrappers and CUDA compiler are x86-64 programs: never use them for a board.
set(HETMAP_MPI OFF CACHE BOOL "" FORCE)
set(HETMAP_CUDA OFF CACHE BOOL "" FORCE)

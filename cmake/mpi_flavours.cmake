# The MPIs this build holds.
#
# The primary MPI is what `distsgd` (and every other target) is built against:
# the one FindMPI finds first (on Debian, the `mpi` alternative), or Debian's
# Open MPI or MPICH by name with -DDISTSGD_MPI=openmpi|mpich, or any MPI the
# usual FindMPI hints name (MPI_C_COMPILER=cc for Cray MPICH, MPI_HOME, ...).
#
# Only src/comm/mpi_*.cpp include <mpi.h>, so those few files are compiled once
# per MPI, as an object library distsgd_mpi_<flavour> that an executable links
# to choose its MPI; everything else is built once. When the other Debian MPI
# is installed too (DISTSGD_SECOND_MPI, AUTO by default), the build adds
# `distsgd-<flavour>` and the MPI test binaries against it, and tests/ runs
# the MPI tests under both (docs/mpi.md).
#
# Defines: DISTSGD_MPI_FLAVOURS (openmpi, mpich or other: the primary first),
# and for each flavour F: DISTSGD_MPIEXEC_<F> (its launcher),
# DISTSGD_MPIEXEC_FLAGS_<F> (what tests pass it: oversubscribe, no binding, root
# allowed), DISTSGD_SUFFIX_<F> (empty for the primary, -F for the second) and
# the object library distsgd_mpi_<F>; the function distsgd_link_mpi(target [F]).

set(DISTSGD_MPI "" CACHE STRING
    "MPI to build against: empty (the one FindMPI finds first), openmpi or mpich (Debian's)")
set(DISTSGD_SECOND_MPI AUTO CACHE STRING
    "Also build the MPI tests against the other Debian MPI: AUTO (when installed), ON or OFF")

# Debian's names for the two MPIs: compiler wrapper, launcher, pkg-config module.
set(distsgd_wrapper_openmpi mpicc.openmpi)
set(distsgd_launcher_openmpi mpirun.openmpi)
set(distsgd_pc_openmpi ompi-c)
set(distsgd_wrapper_mpich mpicc.mpich)
set(distsgd_launcher_mpich mpiexec.mpich)
set(distsgd_pc_mpich mpich)

if(DISTSGD_MPI)
  if(NOT DISTSGD_MPI MATCHES "^(openmpi|mpich)$")
    message(FATAL_ERROR "DISTSGD_MPI=${DISTSGD_MPI}: expected openmpi or mpich (or empty)")
  endif()
  find_program(distsgd_wrapper ${distsgd_wrapper_${DISTSGD_MPI}} REQUIRED)
  find_program(distsgd_launcher ${distsgd_launcher_${DISTSGD_MPI}} REQUIRED)
  set(MPI_C_COMPILER ${distsgd_wrapper} CACHE FILEPATH "" FORCE)
  set(MPIEXEC_EXECUTABLE ${distsgd_launcher} CACHE FILEPATH "" FORCE)
endif()
set(MPI_DETERMINE_LIBRARY_VERSION ON)  # MPI_C_LIBRARY_VERSION_STRING: the flavour
find_package(MPI REQUIRED COMPONENTS C)

# The flavour, from the library's own version string.
function(distsgd_mpi_flavour_of version_string out)
  if(version_string MATCHES "Open MPI")
    set(${out} openmpi PARENT_SCOPE)
  elseif(version_string MATCHES "MPICH")
    set(${out} mpich PARENT_SCOPE)
  else()
    set(${out} other PARENT_SCOPE)
  endif()
endfunction()
distsgd_mpi_flavour_of("${MPI_C_LIBRARY_VERSION_STRING}" distsgd_primary)
message(STATUS "distsgd: MPI ${distsgd_primary} (${MPIEXEC_EXECUTABLE})")

# Open MPI's mpirun refuses more ranks than cores and root, and binds ranks to
# cores; MPICH's Hydra does none of that. The same knowledge, for distsgd
# compare, is in src/comm/mpi_launcher.cpp.
set(distsgd_test_flags_openmpi --allow-run-as-root --oversubscribe --bind-to none)
set(distsgd_test_flags_mpich "")
set(distsgd_test_flags_other "")

file(GLOB distsgd_mpi_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/comm/mpi_*.cpp)

function(distsgd_add_mpi flavour mpi_target mpiexec suffix)
  add_library(distsgd_mpi_${flavour} OBJECT ${distsgd_mpi_sources})
  target_include_directories(distsgd_mpi_${flavour} PUBLIC ${CMAKE_SOURCE_DIR}/src
                                                           ${CMAKE_SOURCE_DIR}/include)
  target_compile_definitions(distsgd_mpi_${flavour} PRIVATE DISTSGD_MPIEXEC="${mpiexec}")
  # PUBLIC: a target that links the objects also links this MPI.
  target_link_libraries(distsgd_mpi_${flavour} PUBLIC distsgd_comm ${mpi_target} Threads::Threads)
  set(DISTSGD_MPIEXEC_${flavour} ${mpiexec} PARENT_SCOPE)
  set(DISTSGD_MPIEXEC_FLAGS_${flavour} ${distsgd_test_flags_${flavour}} PARENT_SCOPE)
  set(DISTSGD_SUFFIX_${flavour} ${suffix} PARENT_SCOPE)
endfunction()

distsgd_add_mpi(${distsgd_primary} MPI::MPI_C ${MPIEXEC_EXECUTABLE} "")
set(DISTSGD_MPI_FLAVOURS ${distsgd_primary})
set(DISTSGD_PRIMARY_MPI ${distsgd_primary})

# The second MPI: the other of Debian's two, through its pkg-config module.
if(NOT DISTSGD_SECOND_MPI STREQUAL "OFF" AND distsgd_primary MATCHES "^(openmpi|mpich)$")
  if(distsgd_primary STREQUAL "openmpi")
    set(distsgd_second mpich)
  else()
    set(distsgd_second openmpi)
  endif()
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(DISTSGD_SECOND_MPI_PC QUIET IMPORTED_TARGET ${distsgd_pc_${distsgd_second}})
  endif()
  find_program(DISTSGD_SECOND_MPIEXEC ${distsgd_launcher_${distsgd_second}})
  if(TARGET PkgConfig::DISTSGD_SECOND_MPI_PC AND DISTSGD_SECOND_MPIEXEC)
    distsgd_add_mpi(${distsgd_second} PkgConfig::DISTSGD_SECOND_MPI_PC ${DISTSGD_SECOND_MPIEXEC}
                    -${distsgd_second})
    list(APPEND DISTSGD_MPI_FLAVOURS ${distsgd_second})
    message(STATUS "distsgd: second MPI ${distsgd_second} for the MPI tests "
                   "(${DISTSGD_SECOND_MPIEXEC})")
  elseif(DISTSGD_SECOND_MPI STREQUAL "ON")
    message(FATAL_ERROR "DISTSGD_SECOND_MPI=ON: ${distsgd_second} not found "
                        "(pkg-config ${distsgd_pc_${distsgd_second}}, "
                        "${distsgd_launcher_${distsgd_second}})")
  endif()
endif()

# Links `target` against one MPI (default: the primary).
function(distsgd_link_mpi target)
  set(flavour ${DISTSGD_PRIMARY_MPI})
  if(ARGC GREATER 1)
    set(flavour ${ARGV1})
  endif()
  target_link_libraries(${target} PRIVATE distsgd_mpi_${flavour})
endfunction()

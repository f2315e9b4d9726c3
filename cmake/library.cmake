# distsgd as a C++ library (docs/library.md): the public headers in include/,
# src/library/ (the adapters from the program's module and data to the
# trainer's), one static archive of every module a training run needs, and an
# installed CMake package:
#   cmake --install build --prefix P
#   -> P/include/distsgd/*.hpp, P/lib/libdistsgd.a,
#      P/lib/cmake/distsgd/distsgd{Config,ConfigVersion,Targets}.cmake
# so that a program's CMakeLists.txt can say
#   find_package(distsgd REQUIRED)
#   target_link_libraries(app PRIVATE distsgd::distsgd)
# (examples/custom_model/, built and run under mpirun by the test
# library.custom_model below).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

distsgd_module(distsgd_library library TORCH distsgd_train)

# One archive, libdistsgd.a, of the objects of these module libraries: a
# program links one file in one order, and the package needs no targets for
# the internal modules (whose include directories point into the source tree).
# The MPI transport's objects (src/comm/mpi_*.cpp) are those of the build's
# primary MPI (cmake/mpi_flavours.cmake), the one the package finds below.
set(DISTSGD_LIBRARY_OBJECT_TARGETS
    distsgd_core distsgd_methods distsgd_sim distsgd_comm distsgd_mpi_${DISTSGD_PRIMARY_MPI}
    distsgd_algorithms distsgd_metrics distsgd_data distsgd_models distsgd_train distsgd_library)
set(distsgd_library_objects)
foreach(target IN LISTS DISTSGD_LIBRARY_OBJECT_TARGETS)
  list(APPEND distsgd_library_objects $<TARGET_OBJECTS:${target}>)
endforeach()
add_library(distsgd_package STATIC ${distsgd_library_objects})
set_target_properties(distsgd_package PROPERTIES OUTPUT_NAME distsgd EXPORT_NAME distsgd
                                                 LINKER_LANGUAGE CXX)
# What a program linking the archive needs besides it. LibTorch is added by
# distsgdConfig.cmake from the program's own find_package(Torch)
# (TORCH_LIBRARIES); the image decoders (found here by cmake/image_libs.cmake)
# are linked by the paths this build used.
set(distsgd_image_libs)
foreach(var DISTSGD_TURBOJPEG_LINK_LIBRARIES DISTSGD_TURBOJPEG_LIB DISTSGD_PNG_LINK_LIBRARIES
            PNG_LIBRARIES)
  if(${var})
    list(APPEND distsgd_image_libs ${${var}})
  endif()
endforeach()
target_include_directories(distsgd_package INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# The public headers are C++17 (the library itself is built as C++20).
target_compile_features(distsgd_package INTERFACE cxx_std_17)
target_link_libraries(distsgd_package INTERFACE
  $<INSTALL_INTERFACE:MPI::MPI_C;Threads::Threads;fmt::fmt;ZLIB::ZLIB;nlohmann_json::nlohmann_json;${distsgd_image_libs}>)

# The MPI the library was built with, by the wrapper's own name: Debian's
# /usr/bin/mpicc is an alternative (/etc/alternatives/mpi) that may name
# another MPI later, so the links are followed to /usr/bin/mpicc.openmpi (or
# .mpich), but not further (Open MPI's opal_wrapper acts by the name it is
# called by). distsgdConfig.cmake finds MPI through it and refuses another one.
set(DISTSGD_MPI_C_COMPILER "${MPI_C_COMPILER}")
while(IS_SYMLINK "${DISTSGD_MPI_C_COMPILER}")
  file(READ_SYMLINK "${DISTSGD_MPI_C_COMPILER}" distsgd_link)
  if(NOT IS_ABSOLUTE "${distsgd_link}")
    get_filename_component(distsgd_dir "${DISTSGD_MPI_C_COMPILER}" DIRECTORY)
    set(distsgd_link "${distsgd_dir}/${distsgd_link}")
  endif()
  get_filename_component(distsgd_name "${distsgd_link}" NAME)
  if(NOT distsgd_name MATCHES "mpi")
    break()
  endif()
  set(DISTSGD_MPI_C_COMPILER "${distsgd_link}")
endwhile()
message(STATUS "distsgd: the installed package finds MPI through ${DISTSGD_MPI_C_COMPILER}")
set(DISTSGD_MPI_C_LIBRARIES "${MPI_C_LIBRARIES}")

set(distsgd_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/distsgd)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/distsgd DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS distsgd_package EXPORT distsgdTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT distsgdTargets NAMESPACE distsgd:: DESTINATION ${distsgd_cmake_dir})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/distsgdConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/distsgdConfig.cmake
                              INSTALL_DESTINATION ${distsgd_cmake_dir})
# 0.x: a minor version may change the contract.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/distsgdConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/distsgdConfig.cmake ${CMAKE_BINARY_DIR}/distsgdConfigVersion.cmake
        DESTINATION ${distsgd_cmake_dir})

# tests/library/*.cpp: the adapters' unit tests.
file(GLOB library_test_srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/library/*.cpp)
if(library_test_srcs)
  add_executable(test_library ${library_test_srcs})
  target_precompile_headers(test_library REUSE_FROM torch_pch)
  target_include_directories(test_library PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(test_library PRIVATE distsgd_library GTest::gtest_main)
  distsgd_link_mpi(test_library)
  gtest_discover_tests(test_library DISCOVERY_TIMEOUT 60
                       PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
endif()

# The installed package in use: install this build into build/library-test/,
# build examples/custom_model against it, train under mpirun.
add_test(NAME library.custom_model
         COMMAND ${CMAKE_SOURCE_DIR}/tests/library/custom_model_test.sh ${CMAKE_BINARY_DIR}
                 ${CMAKE_SOURCE_DIR}/examples/custom_model "${CMAKE_CXX_COMPILER_LAUNCHER}")
set_tests_properties(library.custom_model PROPERTIES TIMEOUT 900
                     ENVIRONMENT "OPENBLAS_NUM_THREADS=1")

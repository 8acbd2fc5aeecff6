# cmake --install build --prefix P:
#   P/bin/fpsolve                              the command line
#   P/include/fpsolve/fpsolve.hpp (+ grid.hpp, errors.hpp)   the public header
#   P/lib/libfpsolve.a and the stage libraries it needs
#   P/lib/cmake/fpsolve/fpsolveConfig.cmake, fpsolveConfigVersion.cmake, fpsolveTargets.cmake
#   P/lib/python3.X/dist-packages/fpsolve/      the Python package (with its module when built)
# A consumer: find_package(fpsolve CONFIG REQUIRED) and target_link_libraries(app PRIVATE fpsolve::fpsolve).
include(CMakePackageConfigHelpers)

install(TARGETS fpsolve RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES library/include/fpsolve/fpsolve.hpp grids/grid.hpp grids/errors.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fpsolve)

if(FPSOLVE_MPI)
  # The decomposed build links Open MPI, parallel HDF5 and hypre (found here by hand): it installs the binary
  # and the Python package only.
  message(STATUS "fpsolve: the MPI build installs no CMake package (configure without FPSOLVE_MPI for one)")
else()
  set(fpsolve_package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/fpsolve)
  install(TARGETS fpsolve_library fpsolve_grids fpsolve_solver fpsolve_time fpsolve_io
          EXPORT fpsolveTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT fpsolveTargets NAMESPACE fpsolve:: DESTINATION ${fpsolve_package_dir})
  # The dependencies' locations as this build found them, for find_dependency in the consumer.
  set(FPSOLVE_HDF5_ROOT "${HDF5_ROOT}")
  set(FPSOLVE_HDF5_LIBRARIES "${HDF5_C_LIBRARIES}")
  set(FPSOLVE_HDF5_INCLUDE_DIRS "${HDF5_C_INCLUDE_DIRS}")
  configure_package_config_file(cmake/fpsolveConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/fpsolveConfig.cmake
                                INSTALL_DESTINATION ${fpsolve_package_dir})
  write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/fpsolveConfigVersion.cmake
                                   COMPATIBILITY SameMinorVersion)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/fpsolveConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/fpsolveConfigVersion.cmake
          DESTINATION ${fpsolve_package_dir})
endif()

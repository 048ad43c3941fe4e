# CMake package of the oximl C library, installed by `make -C bindings/c install` into <prefix>/lib/cmake/oximl.
#   find_package(oximl 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE oximl::oximl)
# links liboximl.so; set OXIML_STATIC to ON before find_package to link liboximl.a instead.
get_filename_component(_oximl_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET oximl::oximl)
  if(OXIML_STATIC)
    find_package(Threads REQUIRED)
    add_library(oximl::oximl STATIC IMPORTED)
    set_target_properties(oximl::oximl PROPERTIES
      IMPORTED_LOCATION "${_oximl_prefix}/lib/liboximl.a"
      INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m")
  else()
    add_library(oximl::oximl SHARED IMPORTED)
    # liboximl.so has no SONAME: link it by name (-loximl), not by its install path.
    set_target_properties(oximl::oximl PROPERTIES
      IMPORTED_LOCATION "${_oximl_prefix}/lib/liboximl.so" IMPORTED_NO_SONAME TRUE)
  endif()
  set_target_properties(oximl::oximl PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_oximl_prefix}/include")
endif()
unset(_oximl_prefix)

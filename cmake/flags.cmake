# Compiler flags shared by every target: warnings, ISA, sanitizers.
add_library(ane_flags INTERFACE)
target_compile_options(ane_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Werror=return-type)
# Library code (not tests) also gets implicit-conversion warnings.
set(ANE_LIBRARY_WARNINGS -Wconversion -Wno-sign-conversion)
target_include_directories(ane_flags INTERFACE ${PROJECT_SOURCE_DIR}/src)

if(ANE_NATIVE)
  target_compile_options(ane_flags INTERFACE -march=native)
else()
  # Portable: baseline x86-64; AVX2/FMA/F16C kernels are compiled per function and chosen at run time.
  target_compile_options(ane_flags INTERFACE -march=x86-64)
endif()

if(ANE_SANITIZE)
  target_compile_options(ane_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(ane_flags INTERFACE -fsanitize=address,undefined)
endif()

find_package(Threads REQUIRED)
target_link_libraries(ane_flags INTERFACE Threads::Threads)

# ane_layer(NAME DEPS...) : one static library per source folder, sources globbed so adding
# a file touches no build script.
function(ane_layer name)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(NOT srcs)  # a layer still being written: headers only
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE ane_flags ${ARGN})
    return()
  endif()
  add_library(${name} STATIC ${srcs})
  target_link_libraries(${name} PUBLIC ane_flags ${ARGN})
  target_compile_options(${name} PRIVATE ${ANE_LIBRARY_WARNINGS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

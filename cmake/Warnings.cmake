# gpuq_warnings: an interface target that our own targets link, so third-party code
# never sees these flags. -Werror is added when GPUQ_WERROR is on (the test script).
add_library(gpuq_warnings INTERFACE)
target_compile_options(gpuq_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough -Wformat=2)
if(GPUQ_WERROR)
  target_compile_options(gpuq_warnings INTERFACE -Werror)
endif()

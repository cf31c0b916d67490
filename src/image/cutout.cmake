# cleanpng_cutout: the built-in background-removal engine (issue 6), its
# command-line tool and its tests. Pure C over memory; no I/O in the library.
add_library(cleanpng_cutout STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cutout.c
  ${CMAKE_CURRENT_LIST_DIR}/cutout_filter.c
  ${CMAKE_CURRENT_LIST_DIR}/cutout_gmm.c
  ${CMAKE_CURRENT_LIST_DIR}/cutout_maxflow.c)
target_include_directories(cleanpng_cutout PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(cleanpng_cutout PUBLIC Threads::Threads m)
# The engine is hot numeric code: keep it optimised in every build type
# except under the sanitizers, where we want exact reports.
if(NOT CLEANPNG_SANITIZE)
  target_compile_options(cleanpng_cutout PRIVATE -O2)
endif()

add_executable(cleanpng-cutout ${CMAKE_CURRENT_LIST_DIR}/cutout_tool.c)
target_link_libraries(cleanpng-cutout PRIVATE cleanpng_cutout cleanpng_codec)

# Unit tests: plain C programs, nonzero exit on failure. Named cutout_* so
# `ctest -R cutout` runs exactly these.
set(CLEANPNG_CUTOUT_TEST_DIR ${CMAKE_CURRENT_LIST_DIR}/../../tests/image)
foreach(t test_cutout test_cutout_maxflow)
  add_executable(cutout_${t} ${CLEANPNG_CUTOUT_TEST_DIR}/${t}.c)
  target_link_libraries(cutout_${t} PRIVATE cleanpng_cutout)
  add_test(NAME cutout_${t} COMMAND cutout_${t})
endforeach()

# Quality benchmark on a small generated set, with thresholds that catch
# regressions. Needs Debian's python3 with numpy and PIL (scripts/deps-engine.txt).
if(EXISTS /usr/bin/python3)
  add_test(NAME cutout_bench_quick
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/../../scripts/bench-engine --quick --threshold
            --bin $<TARGET_FILE:cleanpng-cutout>
            --workdir ${CMAKE_CURRENT_BINARY_DIR}/cutout-bench)
  set_tests_properties(cutout_bench_quick PROPERTIES TIMEOUT 300)
endif()

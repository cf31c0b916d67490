# cleanpng_codec: sniffing, header reading, capped decoding, encoding and
# pixel operations. Pure C over memory buffers; no I/O.
pkg_check_modules(JPEG REQUIRED IMPORTED_TARGET libjpeg)
pkg_check_modules(WEBP REQUIRED IMPORTED_TARGET libwebp)

add_library(cleanpng_codec STATIC
  ${CMAKE_CURRENT_LIST_DIR}/codec.c
  ${CMAKE_CURRENT_LIST_DIR}/codec_png.c
  ${CMAKE_CURRENT_LIST_DIR}/codec_jpeg.c
  ${CMAKE_CURRENT_LIST_DIR}/codec_webp.c
  ${CMAKE_CURRENT_LIST_DIR}/exif.c
  ${CMAKE_CURRENT_LIST_DIR}/imgops.c)
target_include_directories(cleanpng_codec PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(cleanpng_codec PUBLIC PkgConfig::PNG PkgConfig::JPEG PkgConfig::WEBP m)

# Unit tests: plain C programs, nonzero exit on failure. Named codec_* so
# `ctest -R codec` runs exactly these.
set(CLEANPNG_CODEC_TEST_DIR ${CMAKE_CURRENT_LIST_DIR}/../../tests/image)
foreach(t test_codec test_imgops test_codec_hostile)
  if(EXISTS ${CLEANPNG_CODEC_TEST_DIR}/${t}.c)
    add_executable(codec_${t} ${CLEANPNG_CODEC_TEST_DIR}/${t}.c)
    target_link_libraries(codec_${t} PRIVATE cleanpng_codec)
    add_test(NAME codec_${t} COMMAND codec_${t})
  endif()
endforeach()
# The hostile test counts our library's allocations through malloc.
if(TARGET codec_test_codec_hostile)
  target_link_options(codec_test_codec_hostile PRIVATE -Wl,--wrap=malloc)
endif()

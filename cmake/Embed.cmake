# gpuq_embed(TARGET_VAR OUTPUT NAMESPACE_SYMBOL FILES...)
# Turns text assets (SQL migrations, the remote-side script, web assets) into a C++ source
# that defines `extern const gpuq::EmbeddedFile kSYMBOL[]` (name + contents) and `kSYMBOLCount`
# (extern: a namespace-scope const would otherwise be invisible to the files that use it),
# so the master ships as one file. The generated file is rebuilt when an asset changes.
function(gpuq_embed output symbol)
  set(files ${ARGN})
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${output} -DSYMBOL=${symbol} "-DFILES=${files}"
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake
    COMMENT "Embedding ${symbol}"
    VERBATIM)
endfunction()

# Flamegraph and timeline SVG renderers and folded-stack merging: pure code (no MPI, no curl),
# so they go into s3dlio_nompi and are unit-tested alone (tests/unit/render_tests.cmake).
# Included by the top-level CMakeLists.txt, which adds S3DLIO_RENDER_SOURCES to the stats sources.
list(APPEND S3DLIO_RENDER_SOURCES
  src/stats/folded.c src/stats/flamegraph.c src/stats/svg_util.c src/stats/timeline_svg.c)

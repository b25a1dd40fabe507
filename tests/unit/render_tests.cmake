# Renderers: folded stacks, the flamegraph and the timeline SVG (included by tests/CMakeLists.txt).
# The SVG tests check well-formedness with xmllint when it is on PATH and say so when it is not.
s3dlio_unit_test(test_render_folded)
s3dlio_unit_test(test_render_flamegraph)
s3dlio_unit_test(test_render_timeline)
target_link_libraries(test_render_timeline PRIVATE m)

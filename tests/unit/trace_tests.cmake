# The request trace (issue 10): the engine's span hook on file:// (test_xfer_span), the
# recorder and its JSON (test_trace, parsed back with json-c), and a traced stage under
# mpirun at 1 and 3 ranks against the test server (tests/mpi/it_trace.sh).
s3dlio_unit_test(test_xfer_span)
s3dlio_unit_test(test_trace)
target_link_libraries(test_trace PRIVATE PkgConfig::JSONC)
foreach(np 1 3)
  s3dlio_mpi_test(mpi_trace_np${np} it_trace.sh ${np})
endforeach()

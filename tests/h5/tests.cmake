# HDF5: stage --to h5:PATH, the reader and the h5 command (included by tests/CMakeLists.txt).

# CRC-32C of pieces combined in offset order (what the HDF5 sink does): a pure function
add_executable(test_crc32c_combine h5/test_crc32c_combine.c)
target_link_libraries(test_crc32c_combine PRIVATE s3dlio_nompi)
s3dlio_target_defaults(test_crc32c_combine)
add_test(NAME test_crc32c_combine COMMAND test_crc32c_combine)
set_tests_properties(test_crc32c_combine PROPERTIES LABELS "unit;hdf5" TIMEOUT 60)

# the reader on files made with the HDF5 C API: no MPI, no server
add_executable(test_h5_reader h5/test_h5_reader.c)
target_link_libraries(test_h5_reader PRIVATE s3dlio HDF5::HDF5)
s3dlio_target_defaults(test_h5_reader)
add_test(NAME test_h5_reader COMMAND test_h5_reader)
set_tests_properties(test_h5_reader PROPERTIES LABELS "unit;hdf5" TIMEOUT 60 ENVIRONMENT "${TEST_ENV}")

# stage --to h5: at -n 1, 2, 4 against the server, checked through h5 get and HDF5's own tools;
# failures and interruptions leave nothing at PATH
foreach(np 1 2 4)
  s3dlio_mpi_test(mpi_h5_stage_np${np} ../h5/it_h5_stage.sh ${np} "mpi;s3;hdf5")
endforeach()

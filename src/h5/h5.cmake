# HDF5: the stage destination h5:PATH (parallel writer), the reader API and the h5 command.
# Included by the top-level CMakeLists.txt: the library sources go into s3dlio (with MPI and
# parallel HDF5), the command into the CLI.
list(APPEND S3DLIO_H5_SOURCES
  src/h5/h5_layout.c src/h5/h5_reader.c src/h5/h5_verify.c src/h5/h5_sink.c src/h5/h5_stage.c
  src/h5/h5_writer.c)
list(APPEND S3DLIO_H5_APP_SOURCES apps/cmd_h5.c)

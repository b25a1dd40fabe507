# The request trace (--trace PATH, issue 10): the recorder and its Chrome trace JSON writer
# (no MPI, in every library and in s3dlio_nompi for the unit tests), and its gathering to
# rank 0 with the ranks' clock offsets (coord, MPI).
list(APPEND S3DLIO_TRACE_SOURCES src/stats/trace.c src/stats/trace_json.c)
list(APPEND S3DLIO_TRACE_COORD_SOURCES src/coord/trace_gather.c)

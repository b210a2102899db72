KL_SRCS += lib/error.c lib/log.c lib/fileio.c

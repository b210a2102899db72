KL_SRCS += lib/error.c lib/log.c lib/fileio.c
KL_SRCS += lib/strbuf.c
KL_SRCS += lib/arena.c lib/jsonq.c lib/pacer.c lib/duration.c lib/utf8.c

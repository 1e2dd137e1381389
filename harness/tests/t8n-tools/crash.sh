#!/bin/sh
# A t8n tool that fails with a message on stderr.
echo "crash.sh: segmentation fault (pretend)" >&2
exit 139

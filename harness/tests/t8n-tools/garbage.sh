#!/bin/sh
# A t8n tool that prints something that is not t8n output and writes no files.
echo "garbage.sh: about to print garbage" >&2
echo "Hello! This is not what you asked for."

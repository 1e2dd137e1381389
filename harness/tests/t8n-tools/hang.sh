#!/bin/sh
# A t8n tool that never answers: lockstep must kill it at its time limit.
echo "hang.sh: thinking forever" >&2
exec sleep 3600

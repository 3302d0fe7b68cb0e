#!/bin/sh
# Starts three inventory nodes on 127.0.0.1:7101-7103, each with its own data directory under
# data/ (starting again resumes the same data). Ctrl-C stops all three. Run `npm run build` first.
set -eu
cd "$(dirname "$0")/.."
PEERS=1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103
# Stop the nodes when this script is interrupted or a node's terminal goes away.
trap 'kill $PIDS 2>/dev/null; wait' INT TERM HUP
PIDS=
for ID in 1 2 3; do
  node dist/server.js --id "$ID" --listen "127.0.0.1:710$ID" --peers "$PEERS" --data-dir "data/node$ID" &
  PIDS="$PIDS $!"
done
echo "inventory nodes on 127.0.0.1:7101, :7102, :7103 (pids$PIDS); Ctrl-C stops them" >&2
wait

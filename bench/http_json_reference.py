#!/usr/bin/python3
"""Outside reference for the transport benchmark: the original system's style of moving a
tensor, an HTTP POST whose body is the tensor as a JSON list of numbers, served by Python's
standard-library http.server (the server parses the list and answers with a small JSON).

Standard library only. Server and client run in this one process (server on a thread, on
127.0.0.1, ephemeral port). The timed span per repetition is the whole round trip as the
original system paid it: json.dumps of the list on the client, the POST, the server's
json.loads, its answer, and the client reading the answer.

    /usr/bin/python3 bench/http_json_reference.py [--floats 1048576] [--repeat 5] [--json]
"""
import argparse
import http.client
import http.server
import json
import random
import statistics
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a client session would

    def do_POST(self):  # noqa: N802 (http.server naming)
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        values = json.loads(body)
        answer = json.dumps({"ok": True, "count": len(values)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):  # quiet
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--floats", type=int, default=1 << 20, help="tensor length (float32 values)")
    parser.add_argument("--repeat", type=int, default=5, help="timed round trips")
    parser.add_argument("--json", action="store_true", help="print one JSON line at the end")
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]

    rng = random.Random(42)
    # float32 values, as a tensor's .tolist() would give them (Python floats).
    import struct
    raw = struct.pack(f"{args.floats}f", *(rng.uniform(-1.0, 1.0) for _ in range(args.floats)))
    values = list(struct.unpack(f"{args.floats}f", raw))

    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    body_bytes = 0
    for i in range(args.repeat + 1):  # the first one is a warm-up
        start = time.perf_counter()
        body = json.dumps(values).encode()
        conn.request("POST", "/invoke", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        answer = json.loads(response.read())
        elapsed = time.perf_counter() - start
        if response.status != 200 or answer.get("count") != args.floats:
            print(f"bad answer: {response.status} {answer}", file=sys.stderr)
            return 1
        body_bytes = len(body)
        if i > 0:
            times.append(elapsed)
            if not args.json:
                print(f"round trip {i}: {elapsed:.3f} s")
    conn.close()
    server.shutdown()

    result = {
        "floats": args.floats,
        "tensor_bytes": args.floats * 4,
        "json_body_bytes": body_bytes,
        "repeat": args.repeat,
        "median_seconds": statistics.median(times),
        "min_seconds": min(times),
        "times": times,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"HTTP POST + JSON list, {args.floats} floats ({args.floats * 4} bytes as float32, "
              f"{body_bytes} bytes as JSON): median {result['median_seconds']:.3f} s, "
              f"min {result['min_seconds']:.3f} s over {args.repeat}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Outside reference for the serve benchmark: what a user would write to serve the exported
model without cloudbook, a minimal Python HTTP server around `torch.jit.load`, answering the
same TF-Serving-style request (`POST /v1/models/<name>:predict` with {"instances": [...]})
with {"predictions": [...]}.

Standard library + Debian's python3-torch. One request at a time per thread
(ThreadingHTTPServer), no batching across requests: the simple server a user would write.

    /usr/bin/python3 bench/serve_reference.py --model model.pt --port 8770 [--threads 1]
"""
import argparse
import http.server
import json
import sys

import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="TorchScript file (cloudbook-maker export)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    model = torch.jit.load(args.model)
    model.eval()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: with Nagle's algorithm on, the body waits for
        # the client's delayed ACK (~40 ms a request on Linux). Any tuned server turns it off.
        disable_nagle_algorithm = True

        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            try:
                body = json.loads(self.rfile.read(length))
                x = torch.tensor(body["instances"], dtype=torch.float32)
                with torch.no_grad():
                    y = model(x)
                answer = json.dumps({"predictions": y.tolist()}).encode()
                code = 200
            except Exception as error:  # a reference, not a product: report and go on
                answer = json.dumps({"error": str(error)}).encode()
                code = 400
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    print("serving %s on http://%s:%d" % (args.model, args.host, args.port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

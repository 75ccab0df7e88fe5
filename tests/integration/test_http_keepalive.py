"""Regression: replies on a kept-alive HTTP connection waited 40 ms each. The server writes a
reply's headers and body separately; with Nagle's algorithm the body waited for the client's
delayed ACK of the headers (Linux delays ACKs 40 ms). The server sets TCP_NODELAY, so a
client that keeps its connection open (the CLI, a browser, scripts submitting many tasks)
gets each reply as soon as it is written."""

import http.client
import json
import statistics
import time
import unittest

from master_harness import Master


class KeepAliveTest(unittest.TestCase):
    def test_replies_on_a_kept_alive_connection_do_not_wait_for_delayed_acks(self):
        with Master() as master:
            token = master.login()
            conn = http.client.HTTPConnection("127.0.0.1", master.port, timeout=10)
            headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
            body = json.dumps({"command": "true", "gpus": 1, "hold": True})
            times_ms = []
            for _ in range(30):
                t0 = time.monotonic()
                conn.request("POST", "/api/v1/tasks", body, headers)
                reply = conn.getresponse()
                reply.read()
                times_ms.append((time.monotonic() - t0) * 1000)
                self.assertEqual(reply.status, 201)
                self.assertFalse(reply.will_close, "the server closed a kept-alive connection")
            conn.close()
            # With the delayed-ACK stall every reply takes >= 40 ms; without it a few ms.
            self.assertLess(statistics.median(times_ms), 25, times_ms)


if __name__ == "__main__":
    unittest.main()

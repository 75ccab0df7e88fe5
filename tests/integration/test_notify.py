"""Issue 5, notifications: e-mail through a real SMTP sink on loopback (aiosmtpd) and webhooks
to a local HTTP receiver. The right messages arrive with the right content; a sink that is
down for a while still gets every message exactly once after it returns; a master killed
(SIGKILL) with a notification pending delivers it after restart; "send test"; failures are
visible through the API."""

import json
import signal
import socket
import time
import unittest

from cluster_case import ENDED
from harness import SimCluster, free_port
from master_harness import Master, wait_for
from notify_sinks import OK_REPLY, HookReceiver, SmtpSink

PUBLIC_URL = "http://gpuq.lab.test:8000"


class NotifyTestBase(unittest.TestCase):
    def setUp(self):
        self.smtp = SmtpSink()
        self.smtp.start()
        self.addCleanup(self.smtp.stop)
        self.hooks = HookReceiver()
        self.hooks.start()
        self.addCleanup(self.hooks.stop)

    def master_args(self, max_attempts=1000):
        return ["--smtp-host", "127.0.0.1", "--smtp-port", str(self.smtp.port),
                "--smtp-from", "gpuq@lab.test", "--public-url", PUBLIC_URL,
                "--notify-retry-base-ms", "200", "--notify-retry-max-ms", "800",
                "--notify-max-attempts", str(max_attempts)]

    def setup_cluster(self, master, cluster, email_addr="admin@lab.test", notify_default="end"):
        token = master.login()
        master.put_credential(token, cluster.key)
        for node in cluster.nodes:
            master.add_node(token, node)
        wait_for(lambda: all(n["available"] for n in master.nodes_by_name(token).values()),
                 timeout=15, message="nodes available")
        status, me = master.api("PUT", "/api/v1/me/notifications",
                                {"email": email_addr, "notify_default": notify_default},
                                token=token)
        self.assertEqual(status, 200, me)
        self.assertEqual(me, {"email": email_addr, "notify_default": notify_default})
        status, me = master.api("GET", "/api/v1/me", token=token)
        self.assertEqual((me["email"], me["notify_default"]), (email_addr, notify_default))
        return token

    def add_target(self, master, token, path, fmt, events, kind="webhook", address=None):
        status, target = master.api("POST", "/api/v1/notify/targets", {
            "name": fmt + path, "kind": kind, "address": address or self.hooks.url + path,
            "format": fmt, "events": events}, token=token)
        self.assertEqual(status, 201, target)
        return target

    def submit(self, master, token, command, **fields):
        status, task = master.api("POST", "/api/v1/tasks", {"command": command, "gpus": 1,
                                                            **fields}, token=token)
        self.assertEqual(status, 201, task)
        return task

    def wait_ended(self, master, token, task_id, timeout=30):
        def ended():
            status, t = master.api("GET", "/api/v1/tasks/%d" % task_id, token=token)
            return t if t["status"] in ENDED else None
        return wait_for(ended, timeout=timeout, message="task %d ended" % task_id)


class NotifyContentTest(NotifyTestBase):
    def test_task_emails_and_webhooks_say_the_right_things(self):
        with SimCluster(1, gpus=2) as cluster, Master(extra_args=self.master_args()) as master:
            # The user's default is "failure": only tasks that fail send e-mail, unless the
            # task says otherwise.
            token = self.setup_cluster(master, cluster, notify_default="failure")
            node = cluster.nodes[0]["name"]
            self.add_target(master, token, "/generic", "generic",
                            ["run_started", "run_ended", "task_failed"])
            self.add_target(master, token, "/slack", "slack", ["task_failed"])
            self.add_target(master, token, "/dingtalk", "dingtalk", ["task_failed"])
            self.add_target(master, token, "/feishu", "feishu", ["run_ended"])

            failing = self.submit(master, token,
                                  "for i in $(seq 1 40); do echo line-$i; done; exit 3",
                                  name="train", retries=1)
            self.assertEqual(failing["notify"], "failure")
            quiet = self.submit(master, token, "echo fine", name="quiet")
            loud = self.submit(master, token, "echo all-good", name="loud", notify="end")
            off = self.submit(master, token, "exit 1", name="silent", notify="off")
            for t in (failing, quiet, loud, off):
                self.wait_ended(master, token, t["id"])

            mails = wait_for(lambda: (lambda m: m if len(m) >= 2 else None)(
                self.smtp.to("admin@lab.test")), timeout=15, message="two e-mails")
            time.sleep(2.5)  # nothing more may come
            mails = self.smtp.to("admin@lab.test")
            self.assertEqual(len(mails), 2, [m["Subject"] for m in mails])
            by_task = {}
            for m in mails:
                for t in (failing, loud):
                    if "task %d " % t["id"] in m["Subject"]:
                        by_task[t["id"]] = m
            self.assertEqual(set(by_task), {failing["id"], loud["id"]})

            fail_mail = by_task[failing["id"]]
            self.assertIn("failed with exit code 3", fail_mail["Subject"])
            self.assertEqual(fail_mail["From"], "gpuq@lab.test")
            self.assertTrue(fail_mail["Message-ID"].startswith("<gpuq-notification-"))
            body = fail_mail.get_content().replace("\r\n", "\n")
            self.assertIn("Task: task %d (train)" % failing["id"], body)
            self.assertIn("User: admin", body)
            self.assertIn("Node: " + node, body)
            self.assertRegex(body, r"GPUs: [01]\n")
            self.assertIn("Exit code: 3", body)
            self.assertIn("Run: ", body)
            self.assertIn("(attempt 2)", body)
            self.assertRegex(body, r"Duration: (\d+ ms|\d+s)\n")
            self.assertIn("Link: %s/admin/tasks/%d" % (PUBLIC_URL, failing["id"]), body)
            # The last 30 lines of output: line-11 .. line-40, not line-10.
            tail = body.split("Last lines of output:\n", 1)[1]
            self.assertEqual(tail.split(), ["line-%d" % i for i in range(11, 41)])

            ok_mail = by_task[loud["id"]]
            self.assertIn("succeeded", ok_mail["Subject"])
            self.assertIn("all-good", ok_mail.get_content())

            # Generic JSON: both runs of the failing task started and ended, the first one
            # retrying; one task_failed.
            generic = [p for p in self.hooks.at("/generic")
                       if p.get("task", {}).get("id") == failing["id"]]
            events = sorted(p["event"] for p in generic)
            self.assertEqual(events, ["run_ended", "run_ended", "run_started", "run_started",
                                      "task_failed"], generic)
            ended = sorted((p for p in generic if p["event"] == "run_ended"),
                           key=lambda p: p["run"]["attempt"])
            self.assertEqual([p["run"]["retrying"] for p in ended], [True, False])
            self.assertEqual([p["run"]["exit_code"] for p in ended], [3, 3])
            self.assertEqual(ended[1]["node"], node)
            self.assertEqual(ended[1]["link"], "%s/admin/tasks/%d" % (PUBLIC_URL, failing["id"]))
            self.assertIn("line-40", ended[1]["log_tail"])
            # The other tasks' runs reached the generic target too, but no task_failed for
            # them except `off`'s (its notify only concerns its owner's e-mail).
            failed_ids = sorted(p["task"]["id"] for p in self.hooks.at("/generic")
                                if p["event"] == "task_failed")
            self.assertEqual(failed_ids, sorted([failing["id"], off["id"]]))

            slack = self.hooks.at("/slack")
            self.assertEqual(len(slack), 2, slack)
            self.assertTrue(all(set(p) == {"text"} for p in slack), slack)
            self.assertTrue(any("task %d (train)" % failing["id"] in p["text"] and
                                "no retries left" in p["text"] for p in slack), slack)
            ding = self.hooks.at("/dingtalk")
            self.assertEqual(len(ding), 2, ding)
            self.assertTrue(all(p["msgtype"] == "text" and "content" in p["text"] for p in ding))
            feishu = self.hooks.at("/feishu")
            # run_ended of: 2 runs of the failing task + quiet + loud + off.
            self.assertEqual(len(feishu), 5, feishu)
            self.assertTrue(all(p["msg_type"] == "text" and "[gpuq]" in p["content"]["text"]
                                for p in feishu))

            status, sent = master.api("GET", "/api/v1/notifications?status=sent&limit=1000",
                                      token=token)
            self.assertEqual(status, 200)
            self.assertEqual(len(sent), 2 + len(self.hooks.posts), sent)

    def test_node_down_and_back_and_an_idle_gpu(self):
        with SimCluster(2, gpus=1) as cluster, Master(extra_args=self.master_args()) as master:
            token = self.setup_cluster(master, cluster)
            self.add_target(master, token, "/admin", "generic",
                            ["node_down", "node_up", "gpu_idle"])
            status, settings = master.api("PUT", "/api/v1/settings/notifications",
                                          {"gpu_idle_minutes": 0.05}, token=token)
            self.assertEqual(status, 200, settings)
            self.assertEqual(settings["gpu_idle_minutes"], 0.05)

            # A run holding its GPU at 0 % for 3 s is reported once; a busy one is not.
            idle = self.submit(master, token, "sleep 30", name="idler", node="node1")
            busy = self.submit(master, token, "gpuq-sim-work --mem 100 --util 80 --seconds 30",
                               name="busy", node="node2")
            report = wait_for(lambda: [p for p in self.hooks.at("/admin")
                                       if p["event"] == "gpu_idle"], timeout=20,
                              message="gpu_idle webhook")
            self.assertEqual(report[0]["task"]["id"], idle["id"])
            self.assertEqual(report[0]["node"], "node1")
            self.assertEqual(report[0]["gpus"], [0])
            time.sleep(4)
            idle_reports = [p for p in self.hooks.at("/admin") if p["event"] == "gpu_idle"]
            self.assertEqual(len(idle_reports), 1, idle_reports)
            for t in (idle, busy):
                master.api("POST", "/api/v1/tasks/%d/cancel" % t["id"], token=token)

            cluster.stop("node2")
            down = wait_for(lambda: [p for p in self.hooks.at("/admin")
                                     if p["event"] == "node_down"], timeout=20,
                            message="node_down webhook")
            self.assertEqual(down[0]["node"], "node2")
            self.assertTrue(down[0]["error"])
            cluster.start("node2")
            up = wait_for(lambda: [p for p in self.hooks.at("/admin")
                                   if p["event"] == "node_up"], timeout=30,
                          message="node_up webhook")
            self.assertEqual(up[0]["node"], "node2")
            self.assertEqual(len([p for p in self.hooks.at("/admin")
                                  if p["event"] == "node_down"]), 1)


class NotifyDeliveryTest(NotifyTestBase):
    def test_sinks_down_for_a_while_get_every_message_once(self):
        with SimCluster(1, gpus=4) as cluster, \
                Master(extra_args=self.master_args()) as master:
            token = self.setup_cluster(master, cluster)
            self.add_target(master, token, "/hook", "generic", ["run_ended"])
            self.smtp.stop()
            self.hooks.reply = (503, "")
            tasks = [self.submit(master, token, "echo task-%d" % i, name="t%d" % i)
                     for i in range(4)]
            for t in tasks:
                self.wait_ended(master, token, t["id"])

            def retrying():
                status, pending = master.api("GET", "/api/v1/notifications?status=pending",
                                             token=token)
                # One try per destination and pass; the others wait with the one tried.
                tried = {m["channel"] for m in pending if m["attempts"] >= 2}
                waiting = [m for m in pending if m["last_error"]]
                return pending if len(waiting) == 8 and len(tried) == 2 else None
            pending = wait_for(retrying, timeout=20, message="8 messages retried")
            errors = {m["channel"]: m["last_error"] for m in pending}
            self.assertIn("SMTP", errors["email"])
            self.assertIn("503", errors["webhook"])
            self.assertEqual(self.smtp.to("admin@lab.test"), [])

            self.smtp.start()
            self.hooks.reply = OK_REPLY
            wait_for(lambda: len(self.smtp.to("admin@lab.test")) >= 4 and
                     len(self.hooks.at("/hook")) >= 4, timeout=20, message="all delivered")
            time.sleep(2.5)  # no duplicates afterwards
            subjects = sorted(m["Subject"] for m in self.smtp.to("admin@lab.test"))
            self.assertEqual(len(subjects), 4, subjects)
            for t in tasks:
                self.assertEqual(len([s for s in subjects if "task %d " % t["id"] in s]), 1)
            hook_tasks = sorted(p["task"]["id"] for p in self.hooks.at("/hook"))
            self.assertEqual(hook_tasks, sorted(t["id"] for t in tasks))
            status, pending = master.api("GET", "/api/v1/notifications?status=pending",
                                         token=token)
            self.assertEqual(pending, [])

    def test_master_killed_with_a_pending_notification_delivers_it_after_restart(self):
        with SimCluster(1, gpus=2) as cluster, \
                Master(extra_args=self.master_args()) as master:
            token = self.setup_cluster(master, cluster)
            self.smtp.stop()
            task = self.submit(master, token, "echo before-the-crash", name="crash")
            self.wait_ended(master, token, task["id"])
            wait_for(lambda: [m for m in master.api("GET", "/api/v1/notifications?status=pending",
                                                    token=token)[1] if m["attempts"] >= 1],
                     timeout=15, message="a pending, tried e-mail")
            master.stop(signal.SIGKILL)
            self.smtp.start()
            master.start()
            mails = wait_for(lambda: self.smtp.to("admin@lab.test"), timeout=20,
                             message="the e-mail after restart")
            time.sleep(2.5)
            mails = self.smtp.to("admin@lab.test")
            self.assertEqual(len(mails), 1)
            self.assertIn("task %d (crash)" % task["id"], mails[0]["Subject"])
            self.assertIn("before-the-crash", mails[0].get_content())

    def test_send_test_settings_and_failed_deliveries_are_visible(self):
        with SimCluster(1, gpus=1) as cluster, \
                Master(extra_args=self.master_args(max_attempts=3)) as master:
            token = self.setup_cluster(master, cluster, notify_default="off")
            hook = self.add_target(master, token, "/test", "slack", ["node_down"])
            status, body = master.api("POST", "/api/v1/notify/targets/%d/test" % hook["id"],
                                      token=token)
            self.assertEqual((status, body), (200, {"ok": True}))
            self.assertEqual(len(self.hooks.at("/test")), 1)
            self.assertIn("test notification", self.hooks.at("/test")[0]["text"])

            mail = self.add_target(master, token, "", "generic", ["node_down"], kind="email",
                                   address="ops@lab.test")
            status, body = master.api("POST", "/api/v1/notify/targets/%d/test" % mail["id"],
                                      token=token)
            self.assertEqual((status, body), (200, {"ok": True}))
            self.assertEqual(len(self.smtp.to("ops@lab.test")), 1)

            dead = self.add_target(master, token, "", "generic", ["node_down"],
                                   address="http://127.0.0.1:%d/gone" % free_port())
            status, body = master.api("POST", "/api/v1/notify/targets/%d/test" % dead["id"],
                                      token=token)
            self.assertEqual(status, 503, body)
            self.assertIn("test not delivered", body["error"])

            # A run's end to the dead target fails 3 times, then shows as failed with its
            # error; a retry by hand queues it again, and it fails again.
            self.add_target(master, token, "", "generic", ["run_ended"],
                            address="http://127.0.0.1:%d/gone" % free_port())
            task = self.submit(master, token, "true", name="unheard")
            self.wait_ended(master, token, task["id"])
            failed = wait_for(lambda: master.api("GET", "/api/v1/notifications?status=failed",
                                                 token=token)[1], timeout=15,
                              message="a failed notification")
            self.assertEqual(len(failed), 1, failed)
            self.assertEqual(failed[0]["attempts"], 3)
            self.assertEqual(failed[0]["event"], "run_ended")
            self.assertIn("/gone", failed[0]["recipient"])
            self.assertIn("POST", failed[0]["last_error"])
            status, again = master.api("POST", "/api/v1/notifications/%d/retry" % failed[0]["id"],
                                       token=token)
            self.assertEqual(status, 200, again)
            wait_for(lambda: master.api("GET", "/api/v1/notifications?status=failed",
                                        token=token)[1], timeout=15, message="failed again")
            status, body = master.api("POST", "/api/v1/notifications/%d/retry" % 999999,
                                      token=token)
            self.assertEqual(status, 404, body)

            # Settings: bad input names the field and changes nothing; the password is
            # stored sealed and never shown.
            status, body = master.api("PUT", "/api/v1/settings/notifications",
                                      {"smtp": {"port": 70000, "user": "u"}}, token=token)
            self.assertEqual((status, body.get("field")), (400, "smtp.port"), body)
            status, body = master.api("PUT", "/api/v1/settings/notifications",
                                      {"smtp": {"from": "not an address"}}, token=token)
            self.assertEqual((status, body.get("field")), (400, "smtp.from"), body)
            status, settings = master.api("GET", "/api/v1/settings/notifications", token=token)
            self.assertEqual(settings["smtp"]["user"], "")
            self.assertEqual(settings["smtp"]["port"], self.smtp.port)
            self.assertEqual(settings["source"]["smtp_host"], "startup")
            status, settings = master.api("PUT", "/api/v1/settings/notifications",
                                          {"smtp": {"password": "s3cret-pw"}}, token=token)
            self.assertEqual(status, 200, settings)
            self.assertTrue(settings["smtp"]["password_set"])
            self.assertNotIn("s3cret-pw", json.dumps(settings))
            status, settings = master.api("PUT", "/api/v1/settings/notifications",
                                          {"smtp": {"password": None}}, token=token)
            self.assertFalse(settings["smtp"]["password_set"])
            status, body = master.api("POST", "/api/v1/settings/notifications/test",
                                      {"to": "someone@lab.test"}, token=token)
            self.assertEqual((status, body), (200, {"ok": True}))
            self.assertEqual(len(self.smtp.to("someone@lab.test")), 1)

            # An SMTP server that accepts connections but never answers holds a delivery
            # up to the 20 s timeout; a master told to stop does not wait for it.
            silent = socket.socket()
            silent.bind(("127.0.0.1", 0))
            silent.listen(16)
            self.addCleanup(silent.close)
            status, _ = master.api("PUT", "/api/v1/settings/notifications",
                                   {"smtp": {"port": silent.getsockname()[1]}}, token=token)
            self.assertEqual(status, 200)
            task = self.submit(master, token, "true", name="stuck-mail", notify="end")
            self.wait_ended(master, token, task["id"])
            time.sleep(2)  # the e-mail is in flight now
            started = time.monotonic()
            self.assertEqual(master.stop(), 0)
            self.assertLess(time.monotonic() - started, 5)
            master.start()
            token = master.login()

            user = {"username": "bob", "password": "bob-pass-123", "role": "user"}
            self.assertEqual(master.api("POST", "/api/v1/users", user, token=token)[0], 201)
            bob = master.login("bob", "bob-pass-123")
            status, body = master.api("GET", "/api/v1/notifications", token=bob)
            self.assertEqual(status, 403, body)
            status, body = master.api("PUT", "/api/v1/me/notifications",
                                      {"email": "bob@@x"}, token=bob)
            self.assertEqual((status, body.get("field")), (400, "email"), body)
            status, body = master.api("PUT", "/api/v1/me/notifications",
                                      {"notify_default": "always"}, token=bob)
            self.assertEqual((status, body.get("field")), (400, "notify_default"), body)


class NotifyCliTest(NotifyTestBase):
    def test_cli_sets_my_email_manages_targets_and_sends_tests(self):
        with Master(extra_args=self.master_args()) as master:
            token = master.login()
            env = {"GPUQ_TOKEN": token}
            r = master.cli("notify", "me", "--email", "me@lab.test", "--default", "failure", env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("email: me@lab.test", r.stdout)
            self.assertIn("default notify: failure", r.stdout)
            r = master.cli("notify", "me", "--default", "sometimes", env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn("notify_default", r.stderr)

            r = master.cli("notify", "add", self.hooks.url + "/cli", "--format", "dingtalk",
                           "--events", "task_failed,node_down", env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            target_id = r.stdout.strip()
            r = master.cli("notify", "add", self.hooks.url + "/x", "--events", "meteor", env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn("events", r.stderr)
            r = master.cli("notify", "targets", env=env)
            self.assertIn("dingtalk", r.stdout)
            self.assertIn("task_failed,node_down", r.stdout)

            r = master.cli("notify", "test", target_id, env=env)
            self.assertEqual((r.returncode, r.stdout), (0, "sent\n"), r.stderr)
            self.assertEqual(self.hooks.at("/cli")[0]["msgtype"], "text")
            r = master.cli("notify", "test", "--to", "me@lab.test", env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(self.smtp.to("me@lab.test")), 1)
            self.smtp.stop()
            r = master.cli("notify", "test", "--to", "me@lab.test", env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn("test not delivered", r.stderr)

            r = master.cli("notify", "log", "--status", "failed", env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("LAST ERROR", r.stdout)
            r = master.cli("notify", "rm", target_id, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(master.api("GET", "/api/v1/notify/targets", token=token)[1], [])


if __name__ == "__main__":
    unittest.main()

"""The panel's notification pages over HTTP (issues 4 and 5): the admin adds a webhook target in
the form and "Send test" reaches a real HTTP receiver on loopback, a dead or refusing target
shows the failure in the server's own words, a test e-mail reaches a real SMTP sink
(aiosmtpd), the SMTP form names every wrong field and never shows the password, a failed
delivery is listed and its "Retry" delivers it, a user saves their own e-mail address and
default on the account page, and a normal user or a form without its CSRF token changes
nothing."""

import html
import re
import unittest

from harness import SimCluster, free_port
from master_harness import ADMIN_PASSWORD, Master, wait_for
from panel_client import PanelClient
from notify_sinks import OK_REPLY, HookReceiver, SmtpSink

PAGE = "/admin/settings/notifications"
PASSWORD = "s3cret-Smtp-pw"


def flash(body):
    """The page's flash texts: (ok, error)."""
    ok = re.findall(r'<p class="flash ok">([^<]*)</p>', body)
    err = re.findall(r'<p class="flash error" id="flash-error">([^<]*)</p>', body)
    return [html.unescape(t) for t in ok], [html.unescape(t) for t in err]


class PanelNotifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpSink()
        cls.smtp.start()
        cls.hooks = HookReceiver()
        cls.hooks.start()
        cls.master = Master(extra_args=[
            "--smtp-host", "127.0.0.1", "--smtp-port", str(cls.smtp.port),
            "--smtp-from", "gpuq@lab.test", "--notify-retry-base-ms", "200",
            "--notify-max-attempts", "1"])
        try:
            cls.master.start()
            cls.token = cls.master.login()
            status, _ = cls.master.api("POST", "/api/v1/users", {
                "username": "carol", "password": "carol-pass-1", "role": "user"}, token=cls.token)
            assert status == 201
            cls.admin = PanelClient(cls.master.url)
            cls.admin.login("admin", ADMIN_PASSWORD)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.master.__exit__(None, None, None)
        cls.hooks.stop()
        cls.smtp.stop()

    def targets(self):
        status, targets = self.master.api("GET", "/api/v1/notify/targets", token=self.token)
        self.assertEqual(status, 200, targets)
        return targets

    def add_target(self, name, address, events=("task_failed",), fmt="generic", kind="webhook"):
        status, headers, body = self.admin.submit(PAGE, {
            "action": "target_add", "name": name, "kind": kind, "address": address,
            "format": fmt, "events": list(events)})
        self.assertEqual(status, 303, body[:2000])
        self.assertTrue(headers["location"].endswith("msg=msg.target_added"), headers)
        return [t for t in self.targets() if t["name"] == name][-1]

    def press(self, action, **fields):
        """Posts one of the page's buttons; follows the redirect; returns (ok, error)."""
        status, headers, body = self.admin.submit(PAGE, dict(fields, action=action))
        self.assertEqual(status, 303, body[:2000])
        status, _, body = self.admin.get(headers["location"])
        self.assertEqual(status, 200)
        return flash(body)

    def test_settings_link_to_the_page_that_shows_where_each_value_comes_from(self):
        self.assertIn('href="%s"' % PAGE, self.admin.get("/admin/settings")[2])
        status, _, body = self.admin.get(PAGE)
        self.assertEqual(status, 200)
        self.assertIn('name="smtp.host" value="127.0.0.1"', body)
        self.assertIn('name="smtp.port" value="%d"' % self.smtp.port, body)
        self.assertIn('data-source="startup"', body)
        for form in ("smtp-form", "test-mail-form", "target-form"):
            self.assertIn('id="%s"' % form, body)

    def test_smtp_form_names_every_wrong_field_keeps_the_text_and_never_shows_the_password(self):
        _, before = self.master.api("GET", "/api/v1/settings/notifications", token=self.token)
        form = {"action": "settings", "smtp.host": "127.0.0.1", "smtp.port": "70000",
                "smtp.security": "ssl", "smtp.user": "", "smtp.password": PASSWORD,
                "smtp.from": "not an address", "public_url": "ftp://files.lab",
                "gpu_idle_minutes": "soon"}
        status, _, body = self.admin.submit(PAGE, form)
        self.assertEqual(status, 400)
        for field in ("smtp.port", "smtp.security", "smtp.from", "public_url", "gpu_idle_minutes"):
            self.assertIn('data-field="%s"' % field, body)
        self.assertNotIn('data-field="smtp.host"', body)
        self.assertIn('value="70000"', body)
        self.assertIn('value="ftp://files.lab"', body)
        self.assertNotIn(PASSWORD, body)
        _, settings = self.master.api("GET", "/api/v1/settings/notifications", token=self.token)
        self.assertEqual(settings, before)  # nothing written

        # Good values: stored, shown as set here; the password only as "set".
        form.update({"smtp.port": str(self.smtp.port), "smtp.security": "none",
                     "smtp.from": "gpuq@lab.test", "public_url": "http://gpuq.lab.test:8000",
                     "gpu_idle_minutes": "15"})
        status, headers, body = self.admin.submit(PAGE, form)
        self.assertEqual(status, 303, body[:2000])
        _, settings = self.master.api("GET", "/api/v1/settings/notifications", token=self.token)
        self.assertTrue(settings["smtp"]["password_set"])
        self.assertEqual(settings["public_url"], "http://gpuq.lab.test:8000")
        self.assertEqual(settings["gpu_idle_minutes"], 15)
        # Fields left as they were still come from the master's start.
        self.assertEqual(settings["source"]["smtp_host"], "startup")
        self.assertEqual(settings["source"]["smtp_port"], "startup")
        self.assertEqual(settings["source"]["public_url"], "settings")
        body = self.admin.get(PAGE)[2]
        self.assertNotIn(PASSWORD, body)
        self.assertRegex(body, r'id="smtp-password-state">set<')
        self.assertNotIn(PASSWORD, self.admin.get("/admin/audit")[2])

        # An empty password keeps it; the box removes it; an emptied field goes back.
        form.update({"smtp.password": "", "gpu_idle_minutes": ""})
        self.assertEqual(self.admin.submit(PAGE, form)[0], 303)
        _, settings = self.master.api("GET", "/api/v1/settings/notifications", token=self.token)
        self.assertTrue(settings["smtp"]["password_set"])
        self.assertEqual(settings["source"]["gpu_idle_minutes"], "startup")
        self.assertEqual(self.admin.submit(PAGE, dict(form, **{"smtp.password_clear": "on"}))[0], 303)
        _, settings = self.master.api("GET", "/api/v1/settings/notifications", token=self.token)
        self.assertFalse(settings["smtp"]["password_set"])

    def test_a_test_e_mail_reaches_the_smtp_sink_and_the_page_says_so(self):
        ok, err = self.press("test_mail", to="ops@lab.test")
        self.assertEqual((ok, err), (["Test sent: the server accepted it."], []))
        mails = self.smtp.to("ops@lab.test")
        self.assertEqual(len(mails), 1)
        self.assertIn("test", mails[0]["Subject"].lower())
        ok, err = self.press("test_mail", to="ops at lab")
        self.assertEqual(ok, [])
        self.assertIn("to: must be one e-mail address", err[0])

    def test_admin_adds_a_webhook_in_the_form_and_send_test_reaches_the_receiver(self):
        # A bad form keeps what was typed and names the field; nothing is added.
        before = len(self.targets())
        status, _, body = self.admin.submit(PAGE, {
            "action": "target_add", "name": "chat", "kind": "webhook", "address": "hooks.lab/x",
            "format": "slack", "events": ["task_failed"]})
        self.assertEqual(status, 400)
        self.assertIn('data-field="address"', body)
        self.assertIn('value="hooks.lab/x"', body)
        self.assertEqual(len(self.targets()), before)

        target = self.add_target("lab chat", self.hooks.url + "/chat",
                                 events=("task_failed", "run_ended"), fmt="slack")
        self.assertEqual((target["kind"], target["format"], target["enabled"]),
                         ("webhook", "slack", True))
        self.assertEqual(sorted(target["events"]), ["run_ended", "task_failed"])
        body = self.admin.get(PAGE)[2]
        self.assertIn('data-target="%d"' % target["id"], body)

        ok, err = self.press("target_test", target_id=str(target["id"]))
        self.assertEqual((ok, err), (["Test sent: the server accepted it."], []))
        posts = self.hooks.at("/chat")
        self.assertEqual(len(posts), 1)
        self.assertIn("test notification", posts[0]["text"])

        # Disable, enable, delete: each shows in the API.
        self.press("target_disable", target_id=str(target["id"]))
        self.assertFalse([t for t in self.targets() if t["id"] == target["id"]][0]["enabled"])
        self.press("target_enable", target_id=str(target["id"]))
        self.assertTrue([t for t in self.targets() if t["id"] == target["id"]][0]["enabled"])
        ok, _ = self.press("target_delete", target_id=str(target["id"]))
        self.assertEqual(ok, ["Deleted."])
        self.assertNotIn(target["id"], [t["id"] for t in self.targets()])

    def test_a_dead_or_refusing_target_shows_the_failure_in_the_servers_words(self):
        port = free_port("127.0.0.1")
        dead = self.add_target("dead", "http://127.0.0.1:%d/gone" % port)
        ok, err = self.press("target_test", target_id=str(dead["id"]))
        self.assertEqual(ok, [])
        self.assertEqual(len(err), 1)
        self.assertTrue(err[0].startswith("test not delivered: "), err)
        self.assertIn("127.0.0.1 port %d" % port, err[0])  # curl's own words

        refusing = self.add_target("refusing", self.hooks.url + "/full")
        self.hooks.reply = (507, "bucket full, try tomorrow")
        try:
            ok, err = self.press("target_test", target_id=str(refusing["id"]))
        finally:
            self.hooks.reply = OK_REPLY
        self.assertEqual(ok, [])
        self.assertIn("HTTP 507: bucket full, try tomorrow", err[0])

    def test_a_failed_delivery_is_listed_and_retry_delivers_it(self):
        with SimCluster(1, gpus=1) as cluster:
            self.master.put_credential(self.token, cluster.key)
            node = self.master.add_node(self.token, cluster.nodes[0])
            try:
                wait_for(lambda: all(n["available"] for n in self.master.nodes_by_name(self.token).values()),
                         timeout=15, message="node available")
                self.add_target("ends", self.hooks.url + "/ends", events=("run_ended",))
                self.hooks.reply = (503, "receiver down for maintenance")
                try:
                    status, task = self.master.api("POST", "/api/v1/tasks", {
                        "command": "true", "name": "heard-later", "notify": "off"}, token=self.token)
                    self.assertEqual(status, 201, task)
                    failed = wait_for(lambda: self.master.api(
                        "GET", "/api/v1/notifications?status=failed", token=self.token)[1],
                        timeout=20, message="a failed delivery")
                finally:
                    self.hooks.reply = OK_REPLY
            finally:
                self.master.api("DELETE", "/api/v1/nodes/%d" % node["id"], token=self.token)
        self.assertEqual(len(failed), 1, failed)
        body = self.admin.get(PAGE)[2]
        row = re.search(r'<tr data-notification="%d">.*?</tr>' % failed[0]["id"], body, re.S)
        self.assertIsNotNone(row, body)
        self.assertIn("receiver down for maintenance", row.group(0))
        self.assertIn("/ends", row.group(0))

        ok, err = self.press("retry", notification_id=str(failed[0]["id"]))
        self.assertEqual(err, [])
        posts = wait_for(lambda: self.hooks.at("/ends"), timeout=10, message="the retried message")
        self.assertEqual(posts[0]["event"], "run_ended")
        self.assertEqual(posts[0]["task"]["id"], task["id"])
        wait_for(lambda: 'id="failed-none"' in self.admin.get(PAGE)[2], timeout=5,
                 message="no failed deliveries left")

    def test_a_user_saves_their_own_e_mail_and_default_on_the_account_page(self):
        carol = PanelClient(self.master.url)
        carol.login("carol", "carol-pass-1")
        self.assertIn('id="notify-form"', carol.get("/admin/account")[2])
        for form, field in (({"email": "carol at lab", "notify_default": "end"}, "email"),
                            ({"email": "carol@lab.test", "notify_default": "sometimes"},
                             "notify_default")):
            status, _, body = carol.submit("/admin/account", dict(form, action="notifications"))
            self.assertEqual(status, 400)
            self.assertIn('data-field="%s"' % field, body)
            self.assertIn('value="%s"' % form["email"], body)
        status, _, _ = carol.submit("/admin/account", {"action": "notifications",
                                                       "email": " carol@lab.test ",
                                                       "notify_default": "failure"})
        self.assertEqual(status, 303)
        token = self.master.login("carol", "carol-pass-1")
        _, me = self.master.api("GET", "/api/v1/me/notifications", token=token)
        self.assertEqual(me, {"email": "carol@lab.test", "notify_default": "failure"})
        body = carol.get("/admin/account")[2]
        self.assertIn('value="carol@lab.test"', body)
        self.assertIn('<option value="failure" selected>', body)

    def test_a_normal_user_cannot_reach_the_page_or_its_forms(self):
        before = self.targets()
        carol = PanelClient(self.master.url)
        carol.login("carol", "carol-pass-1")
        self.assertEqual(carol.get(PAGE)[0], 403)
        self.assertNotIn(PAGE, carol.get("/admin/account")[2])
        own_token = carol.csrf("/admin/account")  # a valid token of her own session
        for form in ({"action": "target_add", "name": "x", "kind": "webhook",
                      "address": self.hooks.url + "/carol", "events": ["run_ended"]},
                     {"action": "settings", "smtp.host": "evil.example"},
                     {"action": "test_mail", "to": "carol@lab.test"},
                     {"action": "target_test", "target_id": "1"}):
            status, _, _ = carol.post(PAGE, dict(form, csrf_token=own_token))
            self.assertEqual(status, 403, form)
        # Without a session: the page sends to the login, a form is 401.
        anon = PanelClient(self.master.url)
        status, headers, _ = anon.get(PAGE)
        self.assertEqual(status, 303)
        self.assertTrue(headers["location"].startswith("/admin/login"))
        self.assertEqual(anon.post(PAGE, {"action": "settings", "csrf_token": "x"})[0], 401)
        self.assertEqual(self.targets(), before)
        self.assertEqual(self.hooks.at("/carol"), [])
        _, settings = self.master.api("GET", "/api/v1/settings/notifications", token=self.token)
        self.assertEqual(settings["smtp"]["host"], "127.0.0.1")
        self.assertEqual(self.smtp.to("carol@lab.test"), [])

    def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(self):
        target = self.add_target("csrf", self.hooks.url + "/csrf")
        before = self.targets()
        for token in (None, "forged", ""):
            for form in ({"action": "target_add", "name": "sneaky", "kind": "webhook",
                          "address": self.hooks.url + "/sneaky", "events": ["run_ended"]},
                         {"action": "target_test", "target_id": str(target["id"])},
                         {"action": "target_delete", "target_id": str(target["id"])},
                         {"action": "settings", "smtp.host": "evil.example"}):
                if token is not None:
                    form["csrf_token"] = token
                status, _, body = self.admin.post(PAGE, form)
                self.assertEqual(status, 403, form)
                self.assertIn("CSRF", body)
        self.assertEqual(self.targets(), before)
        self.assertEqual(self.hooks.at("/csrf"), [])
        _, settings = self.master.api("GET", "/api/v1/settings/notifications", token=self.token)
        self.assertEqual(settings["smtp"]["host"], "127.0.0.1")


if __name__ == "__main__":
    unittest.main()

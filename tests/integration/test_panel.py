"""Issue 4, the admin panel over HTTP: every page and form refuses a request without a
session, a form without its CSRF token does nothing, user input renders as text, wrong
passwords are rate-limited, a normal user sees only their own tasks and no admin page, and
every response carries the security headers."""

import re
import unittest

from master_harness import ADMIN_PASSWORD, Master
from panel_client import PanelClient

PAGES = ["/admin", "/admin/nodes", "/admin/nodes/new", "/admin/nodes/1", "/admin/tasks",
         "/admin/tasks/new", "/admin/tasks/1", "/admin/tasks/1/edit", "/admin/runs/1/log",
         "/admin/account", "/admin/users", "/admin/settings", "/admin/audit"]
FORMS = ["/admin/logout", "/admin/nodes/new", "/admin/nodes/1", "/admin/tasks", "/admin/tasks/new",
         "/admin/tasks/1", "/admin/tasks/1/edit", "/admin/account", "/admin/users", "/admin/settings"]
XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def count_tasks(master, token):
    status, tasks = master.api("GET", "/api/v1/tasks", token=token)
    assert status == 200, tasks
    return len(tasks)


class PanelHttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.master = Master()
        cls.master.start()
        cls.token = cls.master.login()
        cls.admin = PanelClient(cls.master.url)
        cls.admin.login("admin", ADMIN_PASSWORD)
        status, _ = cls.master.api("POST", "/api/v1/users", {"username": "carol", "password": "carol-pass-1",
                                                              "role": "user"}, token=cls.token)
        assert status == 201
        # A task of the admin's that carol must never see.
        status, task = cls.master.api("POST", "/api/v1/tasks", {"command": "echo secret", "name": "admins-secret"},
                                      token=cls.token)
        assert status == 201
        cls.admin_task = task["id"]

    @classmethod
    def tearDownClass(cls):
        cls.master.__exit__(None, None, None)

    def test_every_page_and_form_refuses_a_request_without_a_live_session(self):
        for cookie in (None, "gpuq_session=not-a-session"):
            c = PanelClient(self.master.url)
            if cookie:
                c.cookies["gpuq_session"] = "not-a-session"
            for path in PAGES:
                status, headers, body = c.get(path)
                self.assertEqual(status, 303, (path, cookie))
                self.assertTrue(headers["location"].startswith("/admin/login?next="), headers)
                self.assertNotIn("secret", body)
            for path in FORMS:
                status, _, body = c.post(path, {"csrf_token": "x", "command": "echo hi", "action": "cancel"})
                self.assertEqual(status, 401, (path, cookie, body[:200]))
        # The JSON API: a made-up cookie is no authentication either.
        status, _, _ = c.get("/api/v1/tasks")
        self.assertEqual(status, 401)
        self.assertEqual(count_tasks(self.master, self.token), count_tasks(self.master, self.token))

    def test_a_form_without_the_right_csrf_token_is_refused_and_changes_nothing(self):
        before = count_tasks(self.master, self.token)
        for form in ({"command": "echo no-token"}, {"command": "echo bad", "csrf_token": "forged"},
                     {"command": "echo empty", "csrf_token": ""}):
            status, _, body = self.admin.post("/admin/tasks/new", form)
            self.assertEqual(status, 403, body[:300])
            self.assertIn("CSRF", body)
        status, _, _ = self.admin.post("/admin/users", {"action": "create", "username": "mallory",
                                                         "password": "mallory-pass", "role": "admin"})
        self.assertEqual(status, 403)
        self.assertEqual(count_tasks(self.master, self.token), before)
        _, users = self.master.api("GET", "/api/v1/users", token=self.token)
        self.assertNotIn("mallory", [u["username"] for u in users])
        # The session cookie on the JSON API: reading works, writing needs the CSRF header.
        status, _, _ = self.admin.request("POST", "/api/v1/tasks", headers={"Content-Type": "application/json"})
        self.assertEqual(status, 403)
        status, _, _ = self.admin.get("/api/v1/tasks")
        self.assertEqual(status, 200)
        # The login form has its own token (double submit).
        fresh = PanelClient(self.master.url)
        status, _, _ = fresh.post("/admin/login", {"username": "admin", "password": ADMIN_PASSWORD})
        self.assertEqual(status, 403)
        self.assertNotIn("gpuq_session", fresh.cookies)

    def test_a_script_tag_in_a_task_name_renders_as_text_everywhere(self):
        status, headers, _ = self.admin.submit("/admin/tasks/new", {"name": XSS, "command": "echo '<b>hi</b>'",
                                                                    "gpus": "0", "priority": "0", "retries": "0"})
        self.assertEqual(status, 303)
        task_path = headers["location"].split("?")[0]
        for path in (task_path, "/admin/tasks", "/admin", "/admin/tasks/new?from=" + task_path.rsplit("/", 1)[1]):
            status, _, body = self.admin.get(path)
            self.assertEqual(status, 200, path)
            self.assertNotIn("<script>alert", body, path)
            self.assertNotIn("<img src=x", body, path)
            self.assertIn("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", body, path)
        # A bad form keeps what was typed, escaped, with the error on its field.
        status, _, body = self.admin.submit("/admin/tasks/new", {"name": XSS, "command": "echo", "gpus": "lots",
                                                                 "mem": "8Q", "priority": "0", "retries": "0"})
        self.assertEqual(status, 400)
        self.assertIn('data-field="gpus"', body)
        self.assertIn('data-field="mem"', body)
        self.assertIn('value="lots"', body)
        self.assertNotIn("<script>alert", body)

    def test_an_unknown_panel_page_is_a_404_page(self):
        status, headers, body = self.admin.get("/admin/no-such-page")
        self.assertEqual(status, 404)
        self.assertIn("text/html", headers["content-type"])
        self.assertIn("No such page", body)

    def test_a_link_cannot_make_the_panel_show_chosen_text(self):
        body = self.admin.get("/admin?err=Your+account+is+locked&msg=Call+this+number")[2]
        self.assertNotIn("account is locked", body)
        self.assertNotIn("Call this number", body)

    def test_every_response_carries_the_security_headers(self):
        for path in ("/admin", "/admin/login", "/admin/static/panel.js", "/api/v1/tasks", "/healthz"):
            _, headers, _ = self.admin.get(path)
            csp = headers.get("content-security-policy", "")
            self.assertIn("script-src 'self'", csp, path)
            self.assertNotIn("unsafe-inline", csp)
            self.assertIn("frame-ancestors 'none'", csp)
            self.assertEqual(headers.get("x-content-type-options"), "nosniff")
            self.assertEqual(headers.get("x-frame-options"), "DENY")
            self.assertIn("referrer-policy", headers)
        _, body = self.admin.get("/admin")[1:]
        self.assertIsNone(re.search(r"<script>(?!</script>)", body), "inline script on the dashboard")

    def test_session_cookie_is_http_only_and_strict_and_logout_ends_it(self):
        c = PanelClient(self.master.url)
        _, headers, _ = c.login("carol", "carol-pass-1")
        cookie = [v for v in headers["set-cookie"] if v.startswith("gpuq_session=")][0]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertIn("Max-Age=", cookie)
        saved = dict(c.cookies)
        self.assertEqual(c.get("/admin")[0], 200)
        status, _, _ = c.submit("/admin/logout", {}, page="/admin")
        self.assertEqual(status, 303)
        c.cookies = saved  # the old cookie, replayed after logout
        self.assertEqual(c.get("/admin")[0], 303)

    def test_a_normal_user_sees_only_their_own_tasks_and_no_admin_page(self):
        c = PanelClient(self.master.url)
        c.login("carol", "carol-pass-1")
        for path in ("/admin/users", "/admin/settings", "/admin/audit", "/admin/nodes/new"):
            status, _, body = c.get(path)
            self.assertEqual(status, 403, path)
        status, _, body = c.get("/admin/tasks/%d" % self.admin_task)
        self.assertEqual(status, 404)
        self.assertNotIn("admins-secret", body)
        for path in ("/admin", "/admin/tasks", "/admin/tasks?user=admin", "/admin/tasks?status=queued"):
            status, _, body = c.get(path)
            self.assertEqual(status, 200, path)
            self.assertNotIn("admins-secret", body, path)
        self.assertNotIn('href="/admin/users"', c.get("/admin")[2])
        # Cancelling someone else's task through the form is refused and changes nothing.
        status, _, _ = c.submit("/admin/tasks/%d" % self.admin_task, {"action": "cancel"}, page="/admin/tasks")
        self.assertEqual(status, 404)
        status, _, _ = c.submit("/admin/tasks", {"action": "cancel", "id": str(self.admin_task)})
        self.assertEqual(status, 303)
        _, task = self.master.api("GET", "/api/v1/tasks/%d" % self.admin_task, token=self.token)
        self.assertEqual(task["status"], "queued")
        # Her own task works end to end: submit, hold, release, cancel.
        status, headers, _ = c.submit("/admin/tasks/new", {"name": "carols", "command": "echo mine", "gpus": "0",
                                                           "priority": "0", "retries": "0"})
        self.assertEqual(status, 303)
        path = headers["location"].split("?")[0]
        for action, want in (("hold", "held"), ("release", "queued"), ("cancel", "cancelled")):
            status, _, _ = c.submit(path, {"action": action}, page=path)
            self.assertEqual(status, 303, action)
            _, task = self.master.api("GET", "/api/v1/tasks/" + path.rsplit("/", 1)[1], token=self.token)
            self.assertEqual(task["status"], want, action)

    def test_admin_forms_write_what_they_say(self):
        # A node with bad fields: every error named, nothing written.
        status, _, body = self.admin.submit("/admin/nodes/new", {"name": "bad name", "host": "-oProxyCommand=x",
                                                                 "port": "99999", "probe": "nvidia-smi"})
        self.assertEqual(status, 400)
        for field in ("name", "host", "port"):
            self.assertIn('data-field="%s"' % field, body)
        _, nodes = self.master.api("GET", "/api/v1/nodes", token=self.token)
        self.assertEqual(nodes, [])
        # Settings: a bad value is refused on its field; a good one is stored and audited.
        status, _, body = self.admin.submit("/admin/settings", {"section": "probing", "probe.default": "gpustat",
                                                                "poll.interval_ms": "5"})
        self.assertEqual(status, 400)
        self.assertIn('data-field="poll.interval_ms"', body)
        status, _, _ = self.admin.submit("/admin/settings", {"section": "probing", "probe.default": "gpustat",
                                                             "poll.interval_ms": "2000"})
        self.assertEqual(status, 303)
        self.assertIn('value="gpustat"', self.admin.get("/admin/nodes/new")[2])
        self.assertIn("settings.update", self.admin.get("/admin/audit")[2])
        # API tokens: created in the panel, shown once, usable, revocable.
        status, _, body = self.admin.submit("/admin/account", {"action": "token_create", "token_name": "ci"})
        self.assertEqual(status, 201)
        token = re.search(r'<code id="new-token">([^<]+)</code>', body).group(1)
        self.assertEqual(self.master.api("GET", "/api/v1/me", token=token)[0], 200)
        token_id = re.findall(r'name="token_id" value="(\d+)"', body)[-1]
        status, _, _ = self.admin.submit("/admin/account", {"action": "token_revoke", "token_id": token_id},
                                         page="/admin/account")
        self.assertEqual(status, 303)
        self.assertEqual(self.master.api("GET", "/api/v1/me", token=token)[0], 401)
        self.assertNotIn(token, self.admin.get("/admin/account")[2])

    def test_chinese_from_the_browser_or_the_users_choice(self):
        c = PanelClient(self.master.url)
        c.login("carol", "carol-pass-1")
        self.assertIn("任务", c.get("/admin", headers={"Accept-Language": "zh-CN,zh;q=0.9"})[2])
        self.assertNotIn("任务", c.get("/admin", headers={"Accept-Language": "en-US"})[2])
        status, _, _ = c.submit("/admin/account", {"action": "lang", "lang": "zh"})
        self.assertEqual(status, 303)
        self.assertIn("任务", c.get("/admin", headers={"Accept-Language": "en-US"})[2])
        c.submit("/admin/account", {"action": "lang", "lang": ""})


class PanelLoginLimitTest(unittest.TestCase):
    def test_wrong_passwords_are_rate_limited_even_for_the_right_one_afterwards(self):
        with Master() as master:
            c = PanelClient(master.url)
            for _ in range(5):
                c.login("admin", "wrong-password", expect=401)
            status, _, body = c.login("admin", ADMIN_PASSWORD, expect=429)
            self.assertNotIn("gpuq_session", c.cookies)
            self.assertIn("Too many failed logins", body)
            # The API's token login shares the limiter.
            status, _ = master.api("POST", "/api/v1/tokens", {"username": "admin", "password": ADMIN_PASSWORD})
            self.assertEqual(status, 429)


if __name__ == "__main__":
    unittest.main()

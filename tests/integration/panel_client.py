"""A browser-less client of gpuq's admin panel for integration tests: keeps cookies, does not
follow redirects, and reads CSRF tokens out of the forms it is shown.

    c = PanelClient(master.url)
    c.login("admin", ADMIN_PASSWORD)
    status, headers, body = c.get("/admin/tasks")
"""

import http.client
import re
import urllib.parse

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]*)"')


class PanelClient:
    def __init__(self, url):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.cookies = {}

    def request(self, method, path, form=None, headers=None, cookies=True):
        """Returns (status, headers as a dict of lower-case names, body text)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        if cookies and self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        out = {}
        for name, value in r.getheaders():
            if name.lower() == "set-cookie":
                k, _, rest = value.partition("=")
                v = rest.split(";", 1)[0]
                if "Max-Age=0" in value:
                    self.cookies.pop(k, None)
                else:
                    self.cookies[k] = v
                out.setdefault("set-cookie", []).append(value)
            else:
                out[name.lower()] = value
        conn.close()
        return r.status, out, text

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form, **kw):
        return self.request("POST", path, form=form, **kw)

    def csrf(self, path):
        """The CSRF token of the first form on the page at `path`."""
        status, _, body = self.get(path)
        assert status == 200, (path, status, body[:300])
        m = CSRF_RE.search(body)
        assert m, "no csrf_token on " + path
        return m.group(1)

    def submit(self, path, form, page=None):
        """Posts `form` to `path` with the CSRF token of the page that shows it."""
        token = self.csrf(page or path)
        return self.post(path, dict(form, csrf_token=token))

    def login(self, username, password, expect=303):
        token = self.csrf("/admin/login")
        status, headers, body = self.post("/admin/login", {
            "csrf_token": token, "username": username, "password": password, "next": "/admin"})
        assert status == expect, (status, body[:500])
        return status, headers, body

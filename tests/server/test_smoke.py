from tests.server.helpers import make_project, ok, publish, stamp


def test_health_needs_no_key(api):
    assert ok(api.with_key(None).get("/api/health"))["status"] == "ok"


def test_publish_stamp_and_list(api):
    project = make_project(api)
    pub = publish(api, project, count=2)
    stamp(api, project, pub.ids, "studio", 4)
    page = ok(api.get(f"{{api}}/{project}/state",
                      params={"localSite": "studio", "remoteSite": "other"}))
    assert page["total"] == 2
    assert {item["localStatus"]["status"] for item in page["representations"]} == {4}

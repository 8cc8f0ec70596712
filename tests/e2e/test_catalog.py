"""The event catalog over HTTP: creating, publishing, listing and searching events, DRAFT
visibility, roles, validation, and the seat map with its ETag."""

import datetime
import unittest
import uuid

import harness
from harness import API, e2e_case


def rfc3339(delta):
    t = datetime.datetime.now(datetime.timezone.utc) + delta
    return t.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def reserved_body(title):
    return {
        "title": title, "description": "strings and brass", "venue": "Arts Hall",
        "location": "Seoul", "category": "CONCERT",
        "startsAt": rfc3339(datetime.timedelta(days=30)),
        "salesOpenAt": rfc3339(datetime.timedelta(days=1)),
        "seating": "RESERVED",
        "grades": [{"name": "VIP", "price": 150000}, {"name": "R", "price": 99000}],
        "sections": [
            {"name": "A", "grade": "VIP", "rows": [{"row": "1", "seats": 10}]},
            {"name": "B", "grade": "R", "rows": [{"row": "1", "seats": 20}, {"row": "2", "seats": 20}]},
        ],
    }


def general_body(title):
    return {
        "title": title, "venue": "Warehouse", "location": "Busan", "category": "FAN_MEETING",
        "startsAt": rfc3339(datetime.timedelta(days=40)),
        "salesOpenAt": rfc3339(datetime.timedelta(days=2)),
        "seating": "GENERAL",
        "grades": [{"name": "STANDING", "price": 77000}],
        "zones": [{"name": "Floor", "grade": "STANDING", "capacity": 500}],
    }


class catalog_test(e2e_case):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.class_server(cls)
        cls.manager = cls.srv.create_user("MANAGER")
        cls.other_manager = cls.srv.create_user("MANAGER")
        cls.user = cls.srv.signup()
        # A word no other test's titles contain, so searches see only this class's events.
        cls.tag = uuid.uuid4().hex[:8]

    def create(self, body, token=None):
        return self.assertStatus(self.srv.call("POST", f"{API}/events", body,
                                               token=token or self.manager.access_token), 201)

    def patch(self, event_id, body, token=None):
        return self.srv.call("PATCH", f"{API}/events/{event_id}", body,
                             token=token or self.manager.access_token)

    def search(self, query, token=None):
        return self.assertStatus(self.srv.call("GET", f"{API}/events?{query}", token=token), 200)

    def test_manager_creates_publishes_and_the_public_finds_them(self):
        # Its own word: other tests leave published and cancelled events behind.
        tag = uuid.uuid4().hex[:8]
        reserved = self.create(reserved_body(f"Spring {tag}"))
        general = self.create(general_body(f"Club {tag}"))
        self.assertEqual(reserved["status"], "DRAFT")
        self.assertEqual(reserved["capacity"], 50)
        self.assertEqual(reserved["minPrice"], 99000)
        self.assertEqual(reserved["maxPrice"], 150000)
        self.assertEqual(general["seating"], "GENERAL")
        self.assertEqual(general["zones"][0]["capacity"], 500)
        self.assertEqual(self.search(f"q={tag}")["total"], 0, "drafts are not public")

        published = self.assertStatus(self.patch(reserved["id"], {"status": "SCHEDULED"}), 200)
        self.assertEqual(published["status"], "SCHEDULED")
        opened = self.assertStatus(self.patch(general["id"], {"status": "ON_SALE"}), 200)
        self.assertEqual(opened["status"], "ON_SALE")

        both = self.search(f"q={tag}")
        self.assertEqual(both["total"], 2)
        self.assertEqual([e["id"] for e in both["items"]], [reserved["id"], general["id"]])
        self.assertEqual([e["id"] for e in self.search(f"q={tag}&category=FAN_MEETING")["items"]],
                         [general["id"]])
        self.assertEqual([e["id"] for e in self.search(f"q={tag}&status=ON_SALE")["items"]],
                         [general["id"]])
        self.assertEqual([e["id"] for e in self.search(f"q={tag}&maxPrice=80000")["items"]],
                         [general["id"]])
        self.assertEqual([e["id"] for e in self.search(f"q={tag}&location=seo")["items"]],
                         [reserved["id"]])
        paged = self.search(f"q={tag}&size=1&page=1")
        self.assertEqual((paged["page"], paged["size"], paged["total"]), (1, 1, 2))
        self.assertEqual([e["id"] for e in paged["items"]], [general["id"]])

        one = self.assertStatus(self.srv.call("GET", f"{API}/events/{reserved['id']}"), 200)
        self.assertEqual(one["sections"][1]["rows"][1]["seats"], 20)

        mine = self.assertStatus(self.srv.call("GET", f"{API}/manager/events",
                                               token=self.manager.access_token), 200)
        self.assertTrue({reserved["id"], general["id"]} <= {e["id"] for e in mine["items"]})
        theirs = self.assertStatus(self.srv.call("GET", f"{API}/manager/events",
                                                 token=self.other_manager.access_token), 200)
        self.assertFalse({reserved["id"], general["id"]} & {e["id"] for e in theirs["items"]})

    def test_a_user_cannot_create_or_edit(self):
        self.assertProblem(self.srv.call("POST", f"{API}/events", reserved_body("x"),
                                         token=self.user.access_token), 403, "FORBIDDEN")
        self.assertProblem(self.srv.call("POST", f"{API}/events", reserved_body("x")), 401,
                           "UNAUTHORIZED")
        event = self.create(reserved_body(f"Mine {self.tag}"))
        self.assertProblem(self.patch(event["id"], {"status": "ON_SALE"}, self.user.access_token),
                           403, "FORBIDDEN")
        self.assertProblem(self.patch(event["id"], {"status": "ON_SALE"},
                                      self.other_manager.access_token), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("GET", f"{API}/manager/events",
                                         token=self.user.access_token), 403, "FORBIDDEN")

    def test_drafts_are_hidden_from_the_public(self):
        event = self.create(reserved_body(f"Secret {self.tag}"))
        path = f"{API}/events/{event['id']}"
        self.assertProblem(self.srv.call("GET", path), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("GET", path, token=self.user.access_token), 404,
                           "NOT_FOUND")
        self.assertProblem(self.srv.call("GET", path, token=self.other_manager.access_token), 404,
                           "NOT_FOUND")
        self.assertProblem(self.srv.call("GET", path + "/seats"), 404, "NOT_FOUND")
        self.assertStatus(self.srv.call("GET", path, token=self.manager.access_token), 200)
        self.assertProblem(self.srv.call("GET", f"{API}/events/not-a-number"), 404, "NOT_FOUND")
        self.assertProblem(self.srv.call("GET", f"{API}/events/987654321"), 404, "NOT_FOUND")

    def test_bad_bodies_name_the_field(self):
        def refused(edit, field):
            body = reserved_body("Bad")
            edit(body)
            self.assertProblem(self.srv.call("POST", f"{API}/events", body,
                                             token=self.manager.access_token),
                               400, "VALIDATION_FAILED", field=field)

        refused(lambda b: b.pop("title"), "title")
        refused(lambda b: b.update(startsAt="next week"), "startsAt")
        refused(lambda b: b.update(salesOpenAt=b["startsAt"]), "salesOpenAt")
        refused(lambda b: b["grades"][1].update(price=-1), "grades[1].price")
        refused(lambda b: b["sections"][1]["rows"][0].update(seats=501), "sections[1].rows[0].seats")
        refused(lambda b: b["sections"][0].update(grade="S"), "sections[0].grade")
        refused(lambda b: b.update(seating="GENERAL"), "sections")
        refused(lambda b: b.update(maxPerUser=11), "maxPerUser")
        self.assertProblem(self.srv.call("POST", f"{API}/events", "{not json",
                                         token=self.manager.access_token),
                           400, "VALIDATION_FAILED", field="body")
        self.assertProblem(self.srv.call("GET", f"{API}/events?size=500"), 400,
                           "VALIDATION_FAILED", field="size")

    def test_edits_only_while_draft_and_transitions_are_checked(self):
        event = self.create(reserved_body(f"Edit {self.tag}"))
        renamed = self.assertStatus(self.patch(event["id"], {"title": f"Renamed {self.tag}"}), 200)
        self.assertEqual(renamed["title"], f"Renamed {self.tag}")
        self.assertProblem(self.patch(event["id"], {"status": "CLOSED"}), 409, "CONFLICT")
        self.assertStatus(self.patch(event["id"], {"status": "SCHEDULED"}), 200)
        self.assertProblem(self.patch(event["id"], {"title": "late"}), 409, "CONFLICT")
        self.assertStatus(self.patch(event["id"], {"status": "CANCELLED"}), 200)
        self.assertProblem(self.patch(event["id"], {"status": "ON_SALE"}), 409, "CONFLICT")

    def test_seat_map_with_etag_and_304(self):
        event = self.create(reserved_body(f"Seats {self.tag}"))
        self.assertStatus(self.patch(event["id"], {"status": "ON_SALE"}), 200)
        path = f"{API}/events/{event['id']}/seats"
        status, headers, body = self.srv.call("GET", path)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["eventId"], event["id"])
        self.assertEqual(body["seating"], "RESERVED")
        self.assertEqual(body["sections"][0]["price"], 150000)
        first_row = body["sections"][0]["rows"][0]
        self.assertEqual(first_row["row"], "1")
        self.assertEqual(first_row["seats"][0], {"id": "A-1-1", "status": "AVAILABLE"})
        self.assertEqual(len(first_row["seats"]), 10)
        etag = headers.get("ETag")
        # "<event>-<process epoch>-<version>": versions restart with the process, the epoch
        # keeps a tag from before a restart from ever matching.
        self.assertRegex(etag, rf'^"{event["id"]}-[A-Za-z0-9]{{8}}-{body["version"]}"$')
        self.assertEqual(headers.get("Cache-Control"), "no-cache")

        status, headers, body = self.srv.call("GET", path, headers={"If-None-Match": etag})
        self.assertEqual(status, 304)
        self.assertIsNone(body)
        self.assertEqual(headers.get("ETag"), etag)
        status, _, _ = self.srv.call("GET", path, headers={"If-None-Match": '"0-0"'})
        self.assertEqual(status, 200)

        general = self.create(general_body(f"Zone {self.tag}"))
        self.assertStatus(self.patch(general["id"], {"status": "ON_SALE"}), 200)
        zones = self.assertStatus(self.srv.call("GET", f"{API}/events/{general['id']}/seats"), 200)
        self.assertEqual(zones["zones"], [{"name": "Floor", "grade": "STANDING", "price": 77000,
                                           "capacity": 500, "available": 500}])


if __name__ == "__main__":
    unittest.main()


class seat_map_restart_test(e2e_case):
    def test_a_tag_from_before_a_restart_is_not_answered_304(self):
        # The inventory's versions start again after a restart, and a seat sold before it is
        # still sold after it: a tag a client kept must not be answered 304 by accident.
        with harness.server() as srv:
            manager = srv.create_user("MANAGER")
            event_id = harness.create_event(srv, manager.access_token)
            path = f"{API}/events/{event_id}/seats"
            buyer = srv.signup()
            harness.hold_ok(srv, buyer.access_token, event_id, seats=["A-1-1"])
            status, headers, before = srv.call("GET", path)
            self.assertEqual(status, 200)
            old_tag = headers.get("ETag")
            srv.restart()
            status, headers, after = srv.call("GET", path, headers={"If-None-Match": old_tag})
            self.assertEqual(status, 200, "a tag from before the restart was answered 304")
            self.assertNotEqual(headers.get("ETag"), old_tag)
            self.assertEqual(after["sections"][0]["rows"][0]["seats"][0]["status"], "HELD")

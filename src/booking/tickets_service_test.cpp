#include "booking/tickets_service.hpp"

#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "booking/tickets_test_support.hpp"

namespace tkt::booking {
namespace {

using testing::tickets_fixture;

class TicketsService : public tickets_fixture {
protected:
    void SetUp() override {
        tickets_fixture::SetUp();
        if (HasFatalFailure()) return;
        manager_ = add_user(auth::role::manager);
        other_manager_ = add_user(auth::role::manager);
        admin_ = add_user(auth::role::admin);
        owner_ = add_user(auth::role::user);
        stranger_ = add_user(auth::role::user);
        event_ = add_event(manager_.user_id);
    }

    result<checkin_answer> scan(const auth::principal& who, std::string code) {
        return await(tickets_->check_in(who, std::move(code)));
    }

    auth::principal manager_, other_manager_, admin_, owner_, stranger_;
    std::int64_t event_ = 0;
};

TEST_F(TicketsService, FirstScanAdmitsAndTheSecondIsAlreadyUsedWithTheFirstTime) {
    const auto t = add_ticket(owner_.user_id, event_, "A-1-1");
    const auto first_time = auth::format_rfc3339(clock_.now());

    const auto first = scan(manager_, t.code);
    ASSERT_TRUE(first) << first.error().detail;
    EXPECT_EQ(first->used_at, first_time);
    EXPECT_EQ(first->ticket.id, t.id);
    EXPECT_EQ(first->ticket.status, "USED");
    EXPECT_EQ(first->ticket.used_at, first_time);

    clock_.advance(std::chrono::minutes(3));
    const auto second = scan(manager_, t.code);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, problem_code::already_used);
    EXPECT_EQ(second.error().status(), 409);
    EXPECT_EQ(second.error().extra.at("usedAt").as_string(), first_time);
    EXPECT_NE(second.error().detail.find(first_time), std::string::npos);

    const auto stored = await(tickets_->find_mine(owner_, t.id));
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->status, "USED");
    EXPECT_EQ(stored->used_at, first_time);
}

TEST_F(TicketsService, TwentyConcurrentScansOfOneCodeAdmitExactlyOnce) {
    const auto t = add_ticket(owner_.user_id, event_, "A-1-2");
    constexpr int scans = 20;
    std::vector<std::future<result<checkin_answer>>> answers;
    for (int i = 0; i < scans; ++i) {
        answers.push_back(boost::asio::co_spawn(io_, tickets_->check_in(manager_, t.code),
                                                boost::asio::use_future));
    }
    // Four I/O threads as in production; the scans also overlap on the four DB threads.
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([this] { io_.run(); });
    for (auto& th : threads) th.join();

    int admitted = 0;
    int already_used = 0;
    std::string used_at;
    for (auto& f : answers) {
        const auto r = f.get();
        if (r) {
            ++admitted;
            used_at = r->used_at;
        } else if (r.error().code == problem_code::already_used) {
            ++already_used;
        } else {
            ADD_FAILURE() << "unexpected problem: " << r.error().detail;
        }
    }
    EXPECT_EQ(admitted, 1);
    EXPECT_EQ(already_used, scans - 1);
    const auto stored = await(tickets_->find_mine(owner_, t.id));
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->status, "USED");
    EXPECT_EQ(stored->used_at, used_at);
}

TEST_F(TicketsService, VoidTicketIsAConflictAndStaysVoid) {
    const auto t = add_ticket(owner_.user_id, event_, "A-1-3", "2027-05-01T10:05:00Z", "VOID");
    const auto r = scan(manager_, t.code);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, problem_code::conflict);
    EXPECT_EQ(r.error().detail, "ticket was cancelled");
    const auto stored = await(tickets_->find_mine(owner_, t.id));
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->status, "VOID");
    EXPECT_EQ(stored->used_at, "");
}

TEST_F(TicketsService, MalformedOrForgedCodesAreValidationFailedOnCode) {
    const auto t = add_ticket(owner_.user_id, event_, "A-1-4");
    auto forged = t.code;
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
    for (const std::string& code : {std::string{}, std::string{"hello"}, forged,
                                    t.code.substr(0, t.code.size() - 1), t.code + "."}) {
        const auto r = scan(manager_, code);
        ASSERT_FALSE(r) << code;
        EXPECT_EQ(r.error().code, problem_code::validation_failed) << code;
        EXPECT_EQ(r.error().field, "code") << code;
    }
    const auto stored = await(tickets_->find_mine(owner_, t.id));
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->status, "VALID");
}

TEST_F(TicketsService, GenuineCodeOfAnUnknownTicketIsNotFound) {
    const auto code = tickets_->signer().sign("no-such-ticket", event_);
    const auto r = scan(manager_, code);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, problem_code::not_found);
}

TEST_F(TicketsService, OnlyTheEventsManagerOrAnAdminMayCheckIn) {
    const auto a = add_ticket(owner_.user_id, event_, "A-2-1");
    const auto b = add_ticket(owner_.user_id, event_, "A-2-2");
    for (const auto& who : {other_manager_, owner_, stranger_}) {
        const auto r = scan(who, a.code);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, problem_code::forbidden);
    }
    // The refusals above changed nothing: the event's manager still admits the ticket.
    EXPECT_TRUE(scan(manager_, a.code));
    EXPECT_TRUE(scan(admin_, b.code));
}

TEST_F(TicketsService, ManagerOfAnUnknownEventIsForbidden) {
    const auto code = tickets_->signer().sign("tkt-x", 999'999);
    const auto r = scan(manager_, code);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, problem_code::forbidden);
}

TEST_F(TicketsService, ListMineHasOnlyTheCallersTicketsNewestFirst) {
    const auto older = add_ticket(owner_.user_id, event_, "B-1-1", "2027-05-01T10:00:00Z");
    const auto newer = add_ticket(owner_.user_id, event_, "B-1-2", "2027-05-02T10:00:00Z");
    add_ticket(stranger_.user_id, event_, "B-1-3", "2027-05-03T10:00:00Z");  // not the owner's

    const auto mine = await(tickets_->list_mine(owner_));
    ASSERT_TRUE(mine);
    ASSERT_EQ(mine->size(), 2U);
    EXPECT_EQ((*mine)[0].id, newer.id);
    EXPECT_EQ((*mine)[1].id, older.id);
    EXPECT_EQ((*mine)[0].code, newer.code);
    EXPECT_EQ((*mine)[0].seat, "B-1-2");

    const auto none = await(tickets_->list_mine(manager_));
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST_F(TicketsService, FindMineIsForTheOwnerOnly) {
    const auto t = add_ticket(owner_.user_id, event_, "C-1-1");
    const auto mine = await(tickets_->find_mine(owner_, t.id));
    ASSERT_TRUE(mine);
    EXPECT_EQ(mine->order_id, t.order_id);
    EXPECT_EQ(mine->price, 50000);

    for (const auto& [who, id] :
         {std::pair{stranger_, t.id}, std::pair{admin_, t.id},
          std::pair{owner_, std::string{"unknown"}}, std::pair{owner_, std::string{"../etc"}}}) {
        const auto r = await(tickets_->find_mine(who, id));
        ASSERT_FALSE(r) << id;
        EXPECT_EQ(r.error().code, problem_code::not_found) << id;
    }
}

TEST_F(TicketsService, QrSvgIsOwnerOnlyAndAnSvgImage) {
    const auto t = add_ticket(owner_.user_id, event_, "C-1-2");
    const auto svg = await(tickets_->qr_svg_of(owner_, t.id));
    ASSERT_TRUE(svg);
    EXPECT_TRUE(svg->starts_with("<svg"));
    const auto theirs = await(tickets_->qr_svg_of(stranger_, t.id));
    ASSERT_FALSE(theirs);
    EXPECT_EQ(theirs.error().code, problem_code::not_found);
}

}  // namespace
}  // namespace tkt::booking

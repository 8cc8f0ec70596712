// Korean and English. The language is the one chosen last (localStorage), else the browser's.
const strings = {
    en: {
        appName: 'Ticketon', events: 'Events', myOrders: 'My orders', notifications: 'Notifications',
        login: 'Log in', signup: 'Sign up', logout: 'Log out', language: '한국어',
        languageLabel: 'Switch language', search: 'Search', searchPlaceholder: 'Title, venue…',
        allCategories: 'All categories', noEvents: 'No events found.', loading: 'Loading…',
        email: 'Email', password: 'Password', name: 'Name', noAccount: 'No account yet?',
        haveAccount: 'Already have an account?', fromPrice: 'from {price}', won: '₩',
        CONCERT: 'Concert', MUSICAL: 'Musical', EXHIBITION: 'Exhibition', SPORTS: 'Sports',
        FAN_MEETING: 'Fan meeting', ETC: 'Other',
        DRAFT: 'Draft', SCHEDULED: 'Coming soon', ON_SALE: 'On sale', SOLD_OUT: 'Sold out',
        CLOSED: 'Closed', CANCELLED: 'Cancelled',
        AVAILABLE: 'Available', HELD: 'Held', SOLD: 'Sold', selected: 'Selected',
        seatMap: 'Seat map', zones: 'Zones', left: 'left', quantity: 'Quantity',
        book: 'Book tickets', joinQueue: 'Join the waiting room', holdSeats: 'Hold {n} seat(s)',
        selectSeats: 'Select up to {n} seats.', loginToBook: 'Log in to book.',
        waitingRoom: 'Waiting room', yourPosition: 'Your place in line',
        eta: 'About {s} s to go', preQueue: 'Sales open at {t}. You are in the pre-queue.',
        admitted: 'It is your turn!', leaveQueue: 'Leave the line', peopleAhead: '{n} ahead of you',
        checkout: 'Checkout', timeLeft: 'Time left to pay', expired: 'The hold has expired.',
        payWithSandbox: 'Pay {amount} (Toss sandbox)', payAmount: 'Pay {amount}',
        paymentsNotSetUp: 'This site cannot take payments yet (no payment widget is set up). Your seats are held until the timer runs out.',
        confirmingPayment: 'Confirming your payment…', paymentFailed: 'The payment did not go through', seeOrder: 'See the order',
        paymentNotMade: 'The payment was not made', paymentCancelled: 'You cancelled the payment. Your seats are still held until the timer runs out.',
        tryAgain: 'Try again', paymentRefusedAtToss: 'The payment was not made at Toss. Your seats are still held until the timer runs out.', release: 'Cancel hold', total: 'Total',
        paid: 'Payment complete', tickets: 'Tickets', order: 'Order', seats: 'Seats',
        PENDING_PAYMENT: 'Awaiting payment', CONFIRMING: 'Confirming', PAID: 'Paid',
        FAILED: 'Payment failed', EXPIRED: 'Expired', REFUNDING: 'Refunding', REFUNDED: 'Refunded',
        REFUND_FAILED: 'Refund failed', VALID: 'Valid', USED: 'Used', VOID: 'Void',
        noOrders: 'No orders yet.', noNotifications: 'No notifications.', markAllRead: 'Mark all read',
        unread: '{n} unread', ticketQr: 'QR code of ticket {seat}', back: 'Back', live: 'Live',
        notFound: 'Page not found.', venue: 'Venue', date: 'Date', price: 'Price',
        manage: 'Manage', users: 'Users', manageThisEvent: 'Manage this event', manageEvents: 'My events (manager)', newEvent: 'New event',
        title: 'Title', status: 'Status', capacity: 'Capacity', location: 'City', category: 'Category',
        description: 'Description', startsAt: 'Starts at', salesOpenAt: 'Sales open at', salesCloseAt: 'Sales close at (optional)',
        maxPerUser: 'Tickets per person', holdSeconds: 'Hold time (s)', aboutEvent: 'The event', layout: 'Seats and prices',
        waitingRoomOn: 'Use a waiting room', admitPerSecond: 'Admitted per second', maxActive: 'Most buyers inside at once',
        entryTtl: 'Entry valid for (s)', createEvent: 'Create event', publicPage: 'Public page',
        publish: 'Publish', openNow: 'Open sales now', closeSale: 'Close sales', cancelEvent: 'Cancel event',
        cancelEventConfirm: 'Cancel “{title}”? Every paid order is refunded and every ticket voided. This cannot be undone.',
        keep: 'Keep it', inLine: 'In line', admittedPerSecond: 'Admitted / s', activeEntries: 'Inside now',
        revenue: 'Revenue', soldHeldChart: 'Seats sold and held over time', dashboard: 'Dashboard',
        noWaitingRoom: 'This event has no waiting room.', violations: 'Check failed: {list}', updatedAt: 'Updated {t}',
        eventOrders: 'Orders', refund: 'Refund', refundConfirm: 'Refund order {id} ({amount})? Its tickets become void.',
        refundReason: 'Refunded by the organiser', noticeTitle: 'Title', noticeBody: 'Message', sendNotice: 'Send notice',
        noticeSent: 'Sent to {n} ticket holder(s).', noticeToHolders: 'Notice to ticket holders', ticketCode: 'Ticket code',
        checkIn: 'Check in', checkedIn: 'Admitted: {seat} · {grade}', alreadyUsed: 'Already checked in at {t}.',
        remove: 'Remove', addItem: 'Add {what}', capacitySummary: '{n} seats in all', grade: 'Grade', gradeItem: 'Grade',
        priceWon: 'Price (₩)', sectionItem: 'Section', rowCount: 'Rows', seatsPerRow: 'Seats per row', frontRows: 'First rows in another grade', frontRowsGrade: 'Their grade', zoneItem: 'Zone',
        zoneCapacity: 'Capacity', RESERVED: 'Reserved seats (seat map)', GENERAL: 'General admission (zones)',
        sections: 'Sections', seating: 'Seating', layoutPreview: 'Preview of the seat layout', grades: 'Grades and prices',
        forbiddenTitle: 'Not allowed', forbiddenRole: 'This page is for the {role} role.',
        role_USER: 'User', role_MANAGER: 'Manager', role_ADMIN: 'Administrator',
        orContinueWith: 'Or continue with', continueWith: 'Continue with {provider}',
        provider_kakao: 'Kakao', provider_naver: 'Naver', provider_google: 'Google',
        signInIncomplete: 'The sign-in did not finish. Try again.',
        userSearchPlaceholder: 'Email or name', searchUsers: 'Search users', role: 'Role', joined: 'Joined',
        noUsers: 'No users found.', previous: 'Previous', next: 'Next', pageOf: 'Page {page} of {pages} ({total} users)',
        roleOf: 'Role of {email}', enable: 'Enable', disable: 'Disable', lock: 'Lock', unlock: 'Unlock', locked: 'Locked',
        disableConfirm: 'Disable {email}? They are signed out at once and cannot log in until enabled.',
        user_ACTIVE: 'Active', user_DISABLED: 'Disabled', user_DELETED: 'Withdrawn',
        cancel: 'Cancel', noticeTo: 'Notice to {email}', noticeSentTo: 'Notice sent to {email}.',
        notices: {
            BOOKING_CONFIRMED: { title: 'Booking confirmed', body: 'Your tickets are ready.' },
            PAYMENT_FAILED: { title: 'Payment failed', body: 'The payment did not go through, and the seats went back.' },
            HOLD_EXPIRED: { title: 'Hold expired', body: 'The seats were not paid for in time and went back.' },
            BOOKING_CANCELLED: { title: 'Booking cancelled', body: 'The booking was cancelled and the payment refunded.' },
            ORDER_REFUNDED: { title: 'Payment refunded', body: 'The seats could not be issued, so the payment was refunded.' },
            EVENT_CANCELLED: { title: 'Event cancelled', body: 'The event was cancelled: a payment is refunded, a hold released.' },
        },
        errors: {
            NETWORK: 'The server cannot be reached. Check your connection and try again.',
            VALIDATION_FAILED: 'Please check the form: {detail}', UNAUTHORIZED: 'Could not sign you in: {detail}. Please log in again.',
            SESSION_ENDED: 'Your session has ended. Please log in again.', ALREADY_USED: 'This ticket was already used.',
            OAUTH_DENIED: 'The sign-in was refused: {detail}', OAUTH_STATE_INVALID: 'The sign-in expired or was started elsewhere. Try again.',
            OAUTH_PROFILE_INCOMPLETE: 'The provider did not share an email address. Allow it and try again.',
            FORBIDDEN: 'You are not allowed to do that.', NOT_FOUND: 'Not found.',
            CONFLICT: '{detail}', SEAT_UNAVAILABLE: 'Someone else took a seat you picked. Pick another.',
            SOLD_OUT: 'Sold out.', SALES_NOT_OPEN: 'Sales are not open.',
            HOLD_EXPIRED: 'Your hold expired before payment.', HOLD_LIMIT_EXCEEDED: 'Too many seats for one person.',
            WIDGET_UNAVAILABLE: 'The payment widget could not be loaded. Try again in a moment.',
            PAYMENT_RETURN_INVALID: 'The payment page sent back an incomplete answer. See your order for where it stands.',
            PAYMENT_DECLINED: 'The payment was declined.', AMOUNT_MISMATCH: 'The amount does not match the order.',
            QUEUE_TOKEN_REQUIRED: 'Join the waiting room first.', QUEUE_TOKEN_INVALID: 'Your turn has ended. Join the waiting room again.',
            ACCOUNT_LOCKED: 'Too many failed logins. Try again in {retry} s.',
            RATE_LIMITED: 'Too many attempts. Try again in a moment.', UNAVAILABLE: 'The service is busy. Try again shortly.',
            INTERNAL: 'Something went wrong on our side (request {requestId}).',
        },
    },
    ko: {
        appName: '티켓온', events: '공연', myOrders: '예매 내역', notifications: '알림',
        login: '로그인', signup: '회원가입', logout: '로그아웃', language: 'English',
        languageLabel: '언어 바꾸기', search: '검색', searchPlaceholder: '공연명, 공연장…',
        allCategories: '전체 장르', noEvents: '공연이 없습니다.', loading: '불러오는 중…',
        email: '이메일', password: '비밀번호', name: '이름', noAccount: '계정이 없으신가요?',
        haveAccount: '이미 계정이 있으신가요?', fromPrice: '{price}부터', won: '₩',
        CONCERT: '콘서트', MUSICAL: '뮤지컬', EXHIBITION: '전시', SPORTS: '스포츠',
        FAN_MEETING: '팬미팅', ETC: '기타',
        DRAFT: '초안', SCHEDULED: '오픈 예정', ON_SALE: '예매 중', SOLD_OUT: '매진',
        CLOSED: '판매 종료', CANCELLED: '취소됨',
        AVAILABLE: '선택 가능', HELD: '선점됨', SOLD: '판매됨', selected: '선택함',
        seatMap: '좌석 배치도', zones: '구역', left: '남음', quantity: '수량',
        book: '예매하기', joinQueue: '대기열 입장', holdSeats: '{n}석 선점하기',
        selectSeats: '최대 {n}석까지 고를 수 있습니다.', loginToBook: '예매하려면 로그인하세요.',
        waitingRoom: '대기실', yourPosition: '나의 대기 순서',
        eta: '약 {s}초 남음', preQueue: '{t}에 판매가 열립니다. 사전 대기열에 있습니다.',
        admitted: '입장 차례입니다!', leaveQueue: '대기열 나가기', peopleAhead: '앞에 {n}명',
        checkout: '결제', timeLeft: '결제 남은 시간', expired: '선점 시간이 지났습니다.',
        payWithSandbox: '{amount} 결제 (토스 샌드박스)', payAmount: '{amount} 결제하기',
        paymentsNotSetUp: '아직 결제를 받을 수 없습니다 (결제위젯이 설정되지 않았습니다). 좌석은 남은 시간 동안 선점됩니다.',
        confirmingPayment: '결제를 승인하는 중입니다…', paymentFailed: '결제가 완료되지 않았습니다', seeOrder: '주문 보기',
        paymentNotMade: '결제하지 않았습니다', paymentCancelled: '결제를 취소했습니다. 좌석은 남은 시간 동안 선점됩니다.',
        tryAgain: '다시 결제하기', paymentRefusedAtToss: '토스에서 결제가 이루어지지 않았습니다. 좌석은 남은 시간 동안 선점됩니다.', release: '선점 취소', total: '합계',
        paid: '결제 완료', tickets: '티켓', order: '주문', seats: '좌석',
        PENDING_PAYMENT: '결제 대기', CONFIRMING: '승인 중', PAID: '결제 완료',
        FAILED: '결제 실패', EXPIRED: '만료', REFUNDING: '환불 중', REFUNDED: '환불됨',
        REFUND_FAILED: '환불 실패', VALID: '사용 가능', USED: '사용됨', VOID: '무효',
        noOrders: '예매 내역이 없습니다.', noNotifications: '알림이 없습니다.', markAllRead: '모두 읽음',
        unread: '읽지 않음 {n}', ticketQr: '{seat} 티켓 QR 코드', back: '뒤로', live: '실시간',
        notFound: '페이지를 찾을 수 없습니다.', venue: '공연장', date: '일시', price: '가격',
        manage: '공연 관리', users: '회원', manageThisEvent: '이 공연 관리하기', manageEvents: '내 공연 (매니저)', newEvent: '새 공연',
        title: '제목', status: '상태', capacity: '좌석 수', location: '도시', category: '장르',
        description: '소개', startsAt: '공연 일시', salesOpenAt: '예매 오픈', salesCloseAt: '예매 마감 (선택)',
        maxPerUser: '1인당 매수', holdSeconds: '선점 시간(초)', aboutEvent: '공연 정보', layout: '좌석과 가격',
        waitingRoomOn: '대기열 사용', admitPerSecond: '초당 입장 인원', maxActive: '동시 입장 최대 인원',
        entryTtl: '입장권 유효 시간(초)', createEvent: '공연 만들기', publicPage: '공연 페이지',
        publish: '공개하기', openNow: '지금 예매 열기', closeSale: '예매 마감', cancelEvent: '공연 취소',
        cancelEventConfirm: '“{title}” 공연을 취소할까요? 결제된 주문은 모두 환불되고 티켓은 무효가 됩니다. 되돌릴 수 없습니다.',
        keep: '그대로 두기', inLine: '대기 인원', admittedPerSecond: '초당 입장', activeEntries: '입장 중',
        revenue: '매출', soldHeldChart: '시간에 따른 판매·선점 좌석', dashboard: '대시보드',
        noWaitingRoom: '이 공연에는 대기열이 없습니다.', violations: '점검 실패: {list}', updatedAt: '{t} 갱신',
        eventOrders: '주문', refund: '환불', refundConfirm: '주문 {id} ({amount})을 환불할까요? 티켓은 무효가 됩니다.',
        refundReason: '주최 측 환불', noticeTitle: '제목', noticeBody: '내용', sendNotice: '공지 보내기',
        noticeSent: '티켓 소지자 {n}명에게 보냈습니다.', noticeToHolders: '티켓 소지자에게 공지', ticketCode: '티켓 코드',
        checkIn: '입장 확인', checkedIn: '입장: {seat} · {grade}', alreadyUsed: '이미 {t}에 입장했습니다.',
        remove: '삭제', addItem: '{what} 추가', capacitySummary: '총 {n}석', grade: '등급', gradeItem: '등급',
        priceWon: '가격 (₩)', sectionItem: '구역', rowCount: '열 수', seatsPerRow: '열당 좌석', frontRows: '다른 등급의 앞 열 수', frontRowsGrade: '앞 열 등급', zoneItem: '구역',
        zoneCapacity: '정원', RESERVED: '지정석 (좌석 배치도)', GENERAL: '비지정석 (구역)',
        sections: '구역', seating: '좌석 방식', layoutPreview: '좌석 배치 미리보기', grades: '등급과 가격',
        forbiddenTitle: '권한 없음', forbiddenRole: '{role} 권한이 있어야 볼 수 있습니다.',
        role_USER: '일반', role_MANAGER: '매니저', role_ADMIN: '관리자',
        orContinueWith: '또는 다음으로 계속', continueWith: '{provider}로 계속하기',
        provider_kakao: '카카오', provider_naver: '네이버', provider_google: 'Google',
        signInIncomplete: '로그인이 끝나지 않았습니다. 다시 시도하세요.',
        userSearchPlaceholder: '이메일 또는 이름', searchUsers: '회원 검색', role: '권한', joined: '가입일',
        noUsers: '회원이 없습니다.', previous: '이전', next: '다음', pageOf: '{page} / {pages} 페이지 (회원 {total}명)',
        roleOf: '{email}의 권한', enable: '사용 재개', disable: '사용 중지', lock: '잠그기', unlock: '잠금 해제', locked: '잠김',
        disableConfirm: '{email} 계정을 사용 중지할까요? 바로 로그아웃되고 다시 허용할 때까지 로그인할 수 없습니다.',
        user_ACTIVE: '사용 중', user_DISABLED: '사용 중지', user_DELETED: '탈퇴',
        cancel: '취소', noticeTo: '{email}에게 알림', noticeSentTo: '{email}에게 알림을 보냈습니다.',
        notices: {
            BOOKING_CONFIRMED: { title: '예매 완료', body: '티켓이 발급되었습니다.' },
            PAYMENT_FAILED: { title: '결제 실패', body: '결제가 완료되지 않아 좌석이 반환되었습니다.' },
            HOLD_EXPIRED: { title: '선점 만료', body: '시간 안에 결제되지 않아 좌석이 반환되었습니다.' },
            BOOKING_CANCELLED: { title: '예매 취소', body: '예매가 취소되고 결제가 환불되었습니다.' },
            ORDER_REFUNDED: { title: '결제 환불', body: '좌석을 발급할 수 없어 결제가 환불되었습니다.' },
            EVENT_CANCELLED: { title: '공연 취소', body: '공연이 취소되어 결제는 환불되고 선점은 해제됩니다.' },
        },
        errors: {
            NETWORK: '서버에 연결할 수 없습니다. 연결을 확인하고 다시 시도하세요.',
            VALIDATION_FAILED: '입력값을 확인하세요: {detail}', UNAUTHORIZED: '로그인할 수 없습니다 ({detail}). 다시 로그인하세요.',
            SESSION_ENDED: '로그인 세션이 끝났습니다. 다시 로그인하세요.', ALREADY_USED: '이미 사용된 티켓입니다.',
            OAUTH_DENIED: '로그인이 거절되었습니다: {detail}', OAUTH_STATE_INVALID: '로그인 시간이 지났거나 다른 곳에서 시작되었습니다. 다시 시도하세요.',
            OAUTH_PROFILE_INCOMPLETE: '제공자가 이메일을 알려주지 않았습니다. 이메일 제공에 동의하고 다시 시도하세요.',
            FORBIDDEN: '권한이 없습니다.', NOT_FOUND: '찾을 수 없습니다.',
            CONFLICT: '{detail}', SEAT_UNAVAILABLE: '고른 좌석을 다른 분이 먼저 잡았습니다. 다른 좌석을 고르세요.',
            SOLD_OUT: '매진되었습니다.', SALES_NOT_OPEN: '판매 기간이 아닙니다.',
            HOLD_EXPIRED: '결제 전에 선점 시간이 끝났습니다.', HOLD_LIMIT_EXCEEDED: '1인 구매 한도를 넘었습니다.',
            WIDGET_UNAVAILABLE: '결제위젯을 불러오지 못했습니다. 잠시 뒤에 다시 시도하세요.',
            PAYMENT_RETURN_INVALID: '결제창이 불완전한 응답을 보냈습니다. 주문에서 상태를 확인하세요.',
            PAYMENT_DECLINED: '결제가 거절되었습니다.', AMOUNT_MISMATCH: '결제 금액이 주문과 다릅니다.',
            QUEUE_TOKEN_REQUIRED: '먼저 대기열에 입장하세요.', QUEUE_TOKEN_INVALID: '입장 시간이 끝났습니다. 대기열에 다시 입장하세요.',
            ACCOUNT_LOCKED: '로그인 실패가 많습니다. {retry}초 뒤에 다시 시도하세요.',
            RATE_LIMITED: '요청이 너무 많습니다. 잠시 뒤에 다시 시도하세요.', UNAVAILABLE: '서비스가 바쁩니다. 잠시 뒤에 다시 시도하세요.',
            INTERNAL: '서버 오류가 났습니다 (요청 {requestId}).',
        },
    },
};

const KEY = 'ticketon.lang';
export let lang = localStorage.getItem(KEY) || ((navigator.language || 'en').toLowerCase().startsWith('ko') ? 'ko' : 'en');

export function setLang(next) {
    lang = next;
    localStorage.setItem(KEY, next);
    document.documentElement.lang = next;
}

function fill(text, vars) {
    return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));
}

export function t(key, vars = {}) {
    return fill(strings[lang][key] ?? strings.en[key] ?? key, vars);
}

// A notification's title and body in the current language. The sale's notifications say what
// happened by their type (the server's texts are in one language, and a failed payment's body is
// the payment provider's reason, in Korean; the order page shows it); a NOTICE, written by a
// person, and a type this page does not know keep the server's words.
export function noticeText(n) {
    return strings[lang].notices[n.type] ?? { title: n.title, body: n.body };
}

// A readable sentence for an API error: the code's own message in the current language, with
// the server's detail when the message has no better words (never the raw JSON).
export function errorText(err) {
    const p = err.problem || {};
    const table = strings[lang].errors;
    const template = table[err.code];
    if (template) {
        return fill(template, { detail: p.detail || p.title || '', requestId: p.requestId || '', retry: p.retryAfter ?? '' });
    }
    return p.detail || p.title || err.message || String(err);
}

export function money(amount) {
    return new Intl.NumberFormat(lang === 'ko' ? 'ko-KR' : 'en-US', { style: 'currency', currency: 'KRW' }).format(amount);
}

export function dateTime(iso) {
    return new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

// The chat plugin (examples/plugins/chat/README.md) end to end in the real
// edged binary, with several official clients: nicknames, join/leave notices,
// room messages, private messages, typing, presence, moderation, the rate
// limit, validation errors and leave notices on disconnect.
//
// "Nothing arrives" is asserted with a marker: after the action under test,
// a private message is sent to the observer; an event that was sent to it
// would have been queued on its connection before that private.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { ack, Clients, TEST_TIMEOUT_MS, unique, waitEvent, waitMatching } from "../lib/harness.mjs";
import { startEdged } from "../lib/edged.mjs";

const MOD_TOKEN = "let-me-moderate"; // config.moderator_token of examples/plugins/chat/chat.json
const NSP = "/chat";

/** A unique valid nickname (1-24 chars of [A-Za-z0-9_-]). */
const nick = (p = "u") => unique(`${p}_`);
/** A unique valid room name. */
const roomName = () => unique("r-");

/** Asserts a server time (epoch ms) is now, give or take 10 s. */
function assertNow(t, what = "time") {
  assert.equal(typeof t, "number", `${what} is a number`);
  assert.ok(Math.abs(t - Date.now()) < 10000, `${what} ${t} is about now`);
}

describe("chat plugin on /chat", () => {
  let edged;
  before(async () => {
    edged = await startEdged({ plugins: ["chat"] });
  });
  after(async () => {
    const { code } = await edged.stop();
    assert.equal(code, 0, `edged exit code\n${edged.logTail()}`);
  });

  for (const mode of ["websocket", "polling"]) {
    describe(`over ${mode}`, () => {
      let clients;
      before(() => {
        clients = new Clients(edged, mode);
      });
      afterEach(() => clients.cleanup());
      const test = (name, fn) => it(name, { timeout: TEST_TIMEOUT_MS }, fn);

      /** Connects a chat socket; auth as in the README. */
      const connect = (auth = {}) => clients.connect(NSP, { auth });

      /**
       * Records `events` on observer until a private marker from `sender`
       * arrives, and resolves with what came before it: [[event, payload], ...].
       * The marker costs the sender one message of its rate limit.
       */
      async function before_marker(sender, observer, events) {
        const got = [];
        const handlers = events.map((ev) => [ev, (p) => got.push([ev, p])]);
        for (const [ev, h] of handlers) observer.on(ev, h);
        try {
          const text = unique("marker-");
          const arrived = waitMatching(observer, "private", (p) => p.text === text);
          assert.equal((await ack(sender, "private", { to: observer.id, text }))[0].ok, true, "marker sent");
          await arrived;
          return got.filter(([ev, p]) => !(ev === "private" && p.text === text));
        } finally {
          for (const [ev, h] of handlers) observer.off(ev, h);
        }
      }

      test("nick: set once, unique (case-insensitive), validated; also from auth.nick", async () => {
        const a = await connect();
        const b = await connect();
        const name = nick("Ann");
        assert.deepEqual(await ack(a, "nick", name), [{ ok: true, nick: name }]);
        assert.deepEqual(await ack(a, "nick", nick()), [{ error: "nick already set" }]);
        assert.deepEqual(await ack(b, "nick", name.toUpperCase()), [{ error: "nick taken" }]);
        assert.deepEqual(await ack(b, "nick", "has space"), [{ error: "invalid nick" }]);
        assert.deepEqual(await ack(b, "nick", "x".repeat(25)), [{ error: "invalid nick" }]);
        assert.deepEqual(await ack(b, "nick", ""), [{ error: "invalid nick" }]);
        assert.deepEqual(await ack(b, "nick", 42), [{ error: "invalid arguments" }]);
        const ok24 = unique("y").padEnd(24, "z");
        assert.deepEqual(await ack(b, "nick", ok24), [{ ok: true, nick: ok24 }]);

        // auth.nick: taken, invalid, and set (then the nick event says it is set)
        const taken = clients.socket(NSP, { auth: { nick: name.toLowerCase() } });
        assert.equal((await waitEvent(taken, "connect_error", { failOn: ["connect"] }))[0].message, "nick taken");
        const invalid = clients.socket(NSP, { auth: { nick: "no/slash" } });
        assert.equal((await waitEvent(invalid, "connect_error", { failOn: ["connect"] }))[0].message, "invalid nick");
        const notString = clients.socket(NSP, { auth: { nick: 7 } });
        assert.equal((await waitEvent(notString, "connect_error", { failOn: ["connect"] }))[0].message, "invalid nick");
        const c = await connect({ nick: nick("Cy") });
        assert.deepEqual(await ack(c, "nick", nick()), [{ error: "nick already set" }]);

        // a nick is free again once its socket disconnected; b hears it left their room, then
        // connecting with the nick is retried (bounded) until the server has removed the socket
        const room = roomName();
        await ack(a, "join", room);
        await ack(b, "join", room);
        const aLeft = waitMatching(b, "notice", (n) => n.type === "leave" && n.nick === name);
        a.disconnect();
        await aLeft;
        let again;
        for (let i = 0; i < 40 && !again; i++) {
          const s = clients.socket(NSP, { auth: { nick: name } });
          const [ev, err] = await Promise.race([
            waitEvent(s, "connect").then(() => ["connect"]),
            waitEvent(s, "connect_error").then(([e]) => ["error", e]),
          ]);
          if (ev === "connect") again = s;
          else {
            assert.equal(err.message, "nick taken");
            await new Promise((r) => setTimeout(r, 50)); // pacing of the retries
          }
        }
        assert.ok(again.connected);
      });

      test("join and leave send notices to the room (joiner included, leaver excluded) and to nobody else", async () => {
        const room = roomName();
        const annNick = nick("ann");
        const a = await connect({ nick: annNick });
        const b = await connect(); // no nick: null in payloads
        const outsider = await connect();

        const aJoin = waitMatching(a, "notice", (n) => n.type === "join" && n.id === a.id);
        assert.deepEqual(await ack(a, "join", room), [{ ok: true, room }]);
        const [n1] = await aJoin;
        assert.deepEqual({ ...n1, time: 0 }, { type: "join", room, id: a.id, nick: annNick, time: 0 });
        assertNow(n1.time);

        const aSeesB = waitMatching(a, "notice", (n) => n.type === "join" && n.id === b.id);
        const bSeesB = waitMatching(b, "notice", (n) => n.type === "join" && n.id === b.id);
        assert.deepEqual(await ack(b, "join", room), [{ ok: true, room }]);
        const [[nb], [nb2]] = await Promise.all([aSeesB, bSeesB]);
        assert.deepEqual(nb, nb2);
        assert.deepEqual({ ...nb, time: 0 }, { type: "join", room, id: b.id, nick: null, time: 0 });

        // joining again: ok, no second notice
        const quietA = [];
        a.on("notice", (n) => quietA.push(n));
        assert.deepEqual(await ack(b, "join", room), [{ ok: true, room }]);
        assert.deepEqual(await before_marker(b, a, []), []);
        assert.deepEqual(quietA, [], "no notice for joining a room twice");

        // leave: the remaining members get it, the leaver does not; the outsider never hears of the room
        const aSeesLeave = waitMatching(a, "notice", (n) => n.type === "leave" && n.id === b.id);
        const bNotices = [];
        b.on("notice", (n) => bNotices.push(n));
        assert.deepEqual(await ack(b, "leave", room), [{ ok: true, room }]);
        const [leave] = await aSeesLeave;
        assert.deepEqual({ ...leave, time: 0 }, { type: "leave", room, id: b.id, nick: null, time: 0 });
        assertNow(leave.time);
        assert.deepEqual(await before_marker(a, b, []), []);
        assert.deepEqual(bNotices, [], "the leaver gets no leave notice");
        assert.deepEqual(await before_marker(a, outsider, ["notice", "message"]), [], "the outsider got nothing");

        assert.deepEqual(await ack(b, "leave", room), [{ error: "not in room" }]);
        assert.deepEqual(await ack(b, "join", "bad room!"), [{ error: "invalid room" }]);
        assert.deepEqual(await ack(b, "join", "x".repeat(33)), [{ error: "invalid room" }]);
        assert.deepEqual(await ack(b, "join", { room }), [{ error: "invalid arguments" }]);
        assert.deepEqual(await ack(b, "leave", 5), [{ error: "invalid arguments" }]);
      });

      test("a room message has an id and a time and reaches the room, the sender included, and nobody else", async () => {
        const room = roomName();
        const annNick = nick("ann");
        const [a, b, outsider] = await Promise.all([connect({ nick: annNick }), connect(), connect()]);
        await ack(a, "join", room);
        await ack(b, "join", room);
        await ack(outsider, "join", roomName()); // in another room

        const text = "héllo ✓ <b>world</b>";
        const aGets = waitMatching(a, "message", (m) => m.text === text);
        const bGets = waitMatching(b, "message", (m) => m.text === text);
        const [res] = await ack(a, "message", { room, text });
        assert.equal(res.ok, true);
        assert.match(res.id, /^[0-9a-f]{16}$/);
        assertNow(res.time);
        const [[ma], [mb]] = await Promise.all([aGets, bGets]);
        const expected = { id: res.id, room, from: a.id, nick: annNick, text, time: res.time };
        assert.deepEqual(ma, expected, "the sender gets its message");
        assert.deepEqual(mb, expected, "the other member gets it");
        assert.deepEqual(await before_marker(a, outsider, ["message"]), [], "the outsider got no message");

        // a second message has another id
        const aGetsSecond = waitMatching(a, "message", (m) => m.text === "second");
        const [res2] = await ack(b, "message", { room, text: "second" });
        assert.notEqual(res2.id, res.id);
        const [second] = await aGetsSecond;
        assert.equal(second.id, res2.id);
        assert.equal(second.nick, null, "no nick: null");

        // validation, in the README's order
        assert.deepEqual(await ack(outsider, "message", { room, text: "hi" }), [{ error: "not in room" }]);
        assert.deepEqual(await ack(outsider, "message", { room, text: "" }), [{ error: "not in room" }], "room checked before text");
        assert.deepEqual(await ack(a, "message", { room, text: "" }), [{ error: "invalid text" }]);
        assert.deepEqual(await ack(a, "message", { room, text: "x".repeat(501) }), [{ error: "invalid text" }]);
        assert.deepEqual(await ack(a, "message", { room, text: 12 }), [{ error: "invalid text" }]);
        assert.deepEqual(await ack(a, "message", "just a string"), [{ error: "invalid arguments" }]);
        assert.deepEqual(await ack(a, "message", { room: 1, text: "x" }), [{ error: "invalid arguments" }]);
        const [long] = await ack(a, "message", { room, text: "é".repeat(500) });
        assert.equal(long.ok, true, "500 characters (1000 bytes) are fine");
      });

      test("private messages by socket id and by nick (case-insensitive) reach the recipient only", async () => {
        const bobNick = nick("Bob");
        const annNick = nick("ann");
        const [a, b, c] = await Promise.all([connect({ nick: annNick }), connect({ nick: bobNick }), connect()]);
        const cGot = [];
        c.on("private", (p) => cGot.push(p));
        const aGot = [];
        a.on("private", (p) => aGot.push(p));
        const isMarker = (p) => p.text.startsWith("marker-");

        const byId = waitMatching(b, "private", (p) => p.text === "by id");
        const [r1] = await ack(a, "private", { to: b.id, text: "by id" });
        assert.equal(r1.ok, true);
        assert.match(r1.id, /^[0-9a-f]{16}$/);
        assertNow(r1.time);
        assert.deepEqual((await byId)[0], { id: r1.id, from: a.id, nick: annNick, text: "by id", time: r1.time });

        const byNick = waitMatching(b, "private", (p) => p.text === "by nick");
        const [r2] = await ack(a, "private", { to: bobNick.toUpperCase(), text: "by nick" });
        assert.equal(r2.ok, true);
        assert.deepEqual((await byNick)[0], { id: r2.id, from: a.id, nick: annNick, text: "by nick", time: r2.time });

        assert.deepEqual(await before_marker(b, c, []), []);
        assert.deepEqual(await before_marker(b, a, []), []);
        assert.deepEqual(cGot.filter((p) => !isMarker(p)), [], "a third socket got no private");
        assert.deepEqual(aGot.filter((p) => !isMarker(p)), [], "the sender got no copy");

        assert.deepEqual(await ack(c, "private", { to: "nobody-here", text: "hi" }), [{ error: "no such user" }]);
        assert.deepEqual(await ack(c, "private", { to: b.id, text: "" }), [{ error: "invalid text" }]);
        assert.deepEqual(await ack(c, "private", { to: 3, text: "x" }), [{ error: "invalid arguments" }]);
        assert.deepEqual(await ack(c, "private", ["x"]), [{ error: "invalid arguments" }]);
      });

      test("typing (volatile) reaches the other members of the room, not the sender", async () => {
        const room = roomName();
        const annNick = nick("ann");
        const [a, b, c, outsider] = await Promise.all([connect({ nick: annNick }), connect(), connect(), connect()]);
        for (const s of [a, b, c]) await ack(s, "join", room);
        const aTyping = [];
        a.on("typing", (t) => aTyping.push(t));
        const outsiderTyping = [];
        outsider.on("typing", (t) => outsiderTyping.push(t));
        // volatile: over websocket the members get it; over polling it is dropped when a
        // member has no poll pending (as with the reference server), so only its shape is checked
        const reliable = mode === "websocket";
        const bTyping = [];
        b.on("typing", (x) => bTyping.push(x));
        const bGets = reliable ? waitEvent(b, "typing") : null;
        const cGets = reliable ? waitEvent(c, "typing") : null;
        assert.deepEqual(await ack(a, "typing", { room, typing: true }), [{ ok: true }]);
        const expected = { room, id: a.id, nick: annNick, typing: true };
        if (reliable) {
          assert.deepEqual((await bGets)[0], expected);
          assert.deepEqual((await cGets)[0], expected);
        }
        // the sender's own room message is the marker on its connection
        const mine = waitMatching(a, "message", (m) => m.text === "marker");
        await ack(a, "message", { room, text: "marker" });
        await mine;
        assert.deepEqual(aTyping, [], "the sender does not get its typing");
        assert.deepEqual(await before_marker(a, outsider, []), []);
        assert.deepEqual(outsiderTyping, []);

        // without an ack it works too
        const off = reliable ? waitMatching(b, "typing", (t) => t.typing === false) : null;
        a.emit("typing", { room, typing: false });
        if (reliable) assert.deepEqual((await off)[0], { ...expected, typing: false });
        assert.deepEqual(await before_marker(a, b, []), []);
        for (const x of bTyping) assert.deepEqual(x, { ...expected, typing: x.typing }, "whatever typing arrived is well-formed");

        assert.deepEqual(await ack(outsider, "typing", { room, typing: true }), [{ error: "not in room" }]);
        assert.deepEqual(await ack(a, "typing", { room, typing: "yes" }), [{ error: "invalid arguments" }]);
        assert.deepEqual(await ack(a, "typing", room), [{ error: "invalid arguments" }]);
      });

      test("presence lists the members of a room with their nicks", async () => {
        const room = roomName();
        const annNick = nick("ann");
        const [a, b, outsider] = await Promise.all([connect({ nick: annNick }), connect(), connect()]);
        await ack(a, "join", room);
        await ack(b, "join", room);
        const [res] = await ack(outsider, "presence", room);
        assert.equal(res.ok, true);
        assert.equal(res.room, room);
        const byId = (x, y) => (x.id < y.id ? -1 : 1);
        assert.deepEqual(res.members.sort(byId), [{ id: a.id, nick: annNick }, { id: b.id, nick: null }].sort(byId));
        await ack(b, "leave", room);
        assert.deepEqual((await ack(a, "presence", room))[0].members, [{ id: a.id, nick: annNick }]);
        const empty = roomName();
        assert.deepEqual(await ack(a, "presence", empty), [{ ok: true, room: empty, members: [] }]);
        assert.deepEqual(await ack(a, "presence", "bad room"), [{ error: "invalid room" }]);
        assert.deepEqual(await ack(a, "presence", 1), [{ error: "invalid arguments" }]);
      });

      test("moderation: kick disconnects the target and its rooms hear it left; mute makes its messages fail with \"muted\"", async () => {
        const room = roomName();
        const targetNick = nick("troll");
        const mod = await connect({ nick: nick("mod"), token: MOD_TOKEN });
        const user = await connect({ token: "wrong-token" }); // a wrong token is a normal user, not an error
        const target = await connect({ nick: targetNick });
        const witness = await connect();
        for (const s of [mod, user, target, witness]) await ack(s, "join", room);

        assert.deepEqual(await ack(user, "kick", { target: target.id }), [{ error: "not allowed" }]);
        assert.deepEqual(await ack(user, "mute", { target: target.id, seconds: 10 }), [{ error: "not allowed" }]);
        assert.deepEqual(await ack(mod, "kick", { target: "nobody-here" }), [{ error: "no such user" }]);
        assert.deepEqual(await ack(mod, "mute", { target: target.id, seconds: 0 }), [{ error: "invalid arguments" }]);
        assert.deepEqual(await ack(mod, "mute", { target: target.id, seconds: 604801 }), [{ error: "invalid arguments" }]);
        assert.deepEqual(await ack(mod, "mute", { target: target.id, seconds: "10" }), [{ error: "invalid arguments" }]);

        // mute by nick (case-insensitive)
        const notice = waitMatching(target, "notice", (n) => n.type === "muted");
        const [m] = await ack(mod, "mute", { target: targetNick.toUpperCase(), seconds: 60 });
        assert.equal(m.ok, true);
        assert.ok(m.until > Date.now() + 50000 && m.until < Date.now() + 70000, "until is about now + 60 s");
        assert.deepEqual((await notice)[0], { type: "muted", until: m.until });
        assert.deepEqual(await ack(target, "message", { room, text: "spam" }), [{ error: "muted" }]);
        assert.deepEqual(await ack(target, "private", { to: user.id, text: "spam" }), [{ error: "muted" }]);
        // validation comes before the mute
        assert.deepEqual(await ack(target, "message", { room, text: "" }), [{ error: "invalid text" }]);
        // the others still talk
        assert.equal((await ack(user, "message", { room, text: "not muted" }))[0].ok, true);

        // kick by id: the target is disconnected by the server; the room hears it left
        const targetId = target.id; // the client forgets its id once disconnected
        const gone = waitEvent(target, "disconnect");
        const leave = waitMatching(witness, "notice", (n) => n.type === "leave" && n.id === targetId);
        assert.deepEqual(await ack(mod, "kick", { target: target.id }), [{ ok: true }]);
        assert.equal((await gone)[0], "io server disconnect");
        assert.deepEqual({ ...(await leave)[0], time: 0 }, { type: "leave", room, id: targetId, nick: targetNick, time: 0 });
        const [p] = await ack(mod, "presence", room);
        assert.ok(!p.members.some((x) => x.id === targetId), "the kicked socket left the room");
        assert.deepEqual(await ack(mod, "private", { to: targetNick, text: "still there?" }), [{ error: "no such user" }]);
      });

      test("disconnecting sends a leave notice to each room the socket was in", async () => {
        const [r1, r2] = [roomName(), roomName()];
        const leaverNick = nick("leaver");
        const [a, b, leaver] = await Promise.all([connect(), connect(), connect({ nick: leaverNick })]);
        const leaverId = leaver.id;
        // a join is complete for this test once the joiner saw its own join
        // notice (the plugin sends it after the ack and the history)
        const joined = (c, room) =>
          Promise.all([waitMatching(c, "notice", (n) => n.type === "join" && n.room === room && n.id === c.id), ack(c, "join", room)]);
        await joined(a, r1);
        await joined(b, r2);
        await joined(leaver, r1);
        await joined(leaver, r2);
        const aLeave = waitMatching(a, "notice", (n) => n.type === "leave" && n.id === leaverId);
        const bLeave = waitMatching(b, "notice", (n) => n.type === "leave" && n.id === leaverId);
        leaver.disconnect();
        const [[la], [lb]] = await Promise.all([aLeave, bLeave]);
        assert.deepEqual({ ...la, time: 0 }, { type: "leave", room: r1, id: leaverId, nick: leaverNick, time: 0 });
        assert.equal(lb.room, r2);
        assert.equal(lb.nick, leaverNick);
        assertNow(la.time);
        // each member got only the notice of its own room
        assert.deepEqual(await before_marker(b, a, ["notice"]), []);
        assert.deepEqual(await before_marker(a, b, ["notice"]), []);
      });

      if (mode === "websocket") {
        test("rate limit: 5 messages per 2 s per socket (message and private share it; refused ones do not count)", async () => {
          const room = roomName();
          const [a, b] = await Promise.all([connect(), connect()]);
          await ack(a, "join", room);
          const t0 = Date.now();
          for (let i = 0; i < 3; i++) assert.equal((await ack(a, "message", { room, text: `m${i}` }))[0].ok, true, `message ${i}`);
          assert.deepEqual(await ack(a, "message", { room, text: "" }), [{ error: "invalid text" }], "refused: does not count");
          assert.deepEqual(await ack(a, "private", { to: "nobody-here", text: "x" }), [{ error: "no such user" }], "refused: does not count");
          assert.equal((await ack(a, "private", { to: b.id, text: "p3" }))[0].ok, true, "private 4");
          assert.equal((await ack(a, "message", { room, text: "m4" }))[0].ok, true, "message 5");
          assert.deepEqual(await ack(a, "message", { room, text: "m5" }), [{ error: "rate limited" }]);
          assert.deepEqual(await ack(a, "private", { to: b.id, text: "p5" }), [{ error: "rate limited" }]);
          assert.ok(Date.now() - t0 < 2000, "all within one window (else the test proves nothing)");
          // another socket is not limited
          await ack(b, "join", room);
          assert.equal((await ack(b, "message", { room, text: "b" }))[0].ok, true);
          // the window ends 2 s after the first message: retry (bounded) until it is accepted
          let res;
          do {
            await new Promise((r) => setTimeout(r, 100)); // pacing of the retries, not synchronisation
            [res] = await ack(a, "message", { room, text: "later" });
          } while (res.error === "rate limited" && Date.now() - t0 < 5000);
          assert.equal(res.ok, true, `accepted again after the window (${Date.now() - t0} ms)`);
          assert.ok(Date.now() - t0 >= 1900, `not before the window ends (${Date.now() - t0} ms)`);
        });
      }
    });
  }
});

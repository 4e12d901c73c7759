// edged chat: the browser client of the `chat` plugin (namespace /chat, see
// examples/plugins/chat/README.md). Plain JS, no build step; `io` comes from
// /socket.io/socket.io.js, served by edged itself.
"use strict";

(() => {
  const DEFAULT_ROOMS = ["lobby", "general", "random", "help"];
  const FIRST_ROOM = "lobby";
  const GROUP_MS = 5 * 60 * 1000; // consecutive messages of one sender within this are grouped
  const TYPING_SEND_MS = 2500; // re-send typing:true at most this often while typing
  const TYPING_IDLE_MS = 3000; // typing:false after this long without a key
  const TYPING_SHOW_MS = 6000; // forget a typist we heard nothing from for this long
  const ACK_MS = 8000;
  const NICK_RE = /^[A-Za-z0-9_-]{1,24}$/;
  const ROOM_RE = /^[A-Za-z0-9_-]{1,32}$/;

  const ERRORS = {
    "rate limited": "Slow down: you are sending messages too fast. Try again in a moment.",
    muted: "You are muted and cannot send messages right now.",
    "invalid text": "A message must be 1 to 500 characters.",
    "not in room": "You are not in this room. Join it again to send messages.",
    "invalid room": "Room names are 1-32 letters, digits, - or _.",
    "invalid nick": "Nicknames are 1-24 letters, digits, - or _.",
    "nick taken": "That nickname is taken. Please pick another one.",
    "invalid arguments": "The server did not understand that request.",
    "internal error": "The server ran into a problem. Please try again.",
    timeout: "The server did not answer in time. Check your connection.",
  };
  const errorText = (e) => ERRORS[e] || `Something went wrong (${e}).`;

  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, ...children) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") n.className = v;
      else if (k === "text") n.textContent = v;
      else if (k === "style") n.style.cssText = v;
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) n.append(c);
    return n;
  };

  const ui = {
    login: $("login"), loginForm: $("login-form"), nick: $("nick"), loginError: $("login-error"), loginButton: $("login-button"),
    app: $("app"), sidebar: $("sidebar"), backdrop: $("backdrop"), openSidebar: $("open-sidebar"), closeSidebar: $("close-sidebar"), menuBadge: $("menu-badge"),
    roomList: $("room-list"), joinForm: $("join-form"), joinInput: $("join-input"), joinError: $("join-error"),
    dmList: $("dm-list"), dmEmpty: $("dm-empty"), membersTitle: $("members-title"), memberList: $("member-list"),
    meAvatar: $("me-avatar"), meNick: $("me-nick"), meStatus: $("me-status"), meStatusText: $("me-status-text"), signOut: $("sign-out"),
    convTitle: $("conv-title"), convSub: $("conv-sub"), leave: $("leave-button"),
    banner: $("banner"), bannerText: $("banner-text"), bannerAction: $("banner-action"),
    messages: $("messages"), typing: $("typing"), composer: $("composer"), text: $("text"), send: $("send"), composerError: $("composer-error"),
  };

  /** @type {{socket: any, me: {id: string, nick: string}|null, convs: Map<string, any>, active: string|null, everConnected: boolean}} */
  const state = { socket: null, me: null, convs: new Map(), active: null, everConnected: false };
  const typingOut = { room: null, lastSent: 0, idle: 0 };

  // ---------- helpers ----------
  function hue(s) {
    let h = 0;
    for (const c of String(s).toLowerCase()) h = (h * 31 + c.codePointAt(0)) >>> 0;
    return h % 360;
  }
  function avatar(nick, cls = "avatar") {
    const a = el("span", { class: cls, "aria-hidden": "true", text: (nick || "?").slice(0, 1) });
    a.style.setProperty("--h", hue(nick || "?"));
    return a;
  }
  const fmtTime = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const fmtFull = (ms) => new Date(ms).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  function fmtDay(ms) {
    const d = new Date(ms);
    const today = new Date();
    const yesterday = new Date(Date.now() - 864e5);
    if (d.toDateString() === today.toDateString()) return "Today";
    if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
    return d.toLocaleDateString([], { weekday: "long", month: "long", day: "numeric" });
  }
  const timeEl = (ms) => el("time", { datetime: new Date(ms).toISOString(), title: fmtFull(ms), text: fmtTime(ms) });
  const displayNick = (nick, id) => nick || `guest-${String(id || "").slice(0, 4)}`;
  const isMe = (id) => state.me && id === state.me.id;

  function emitAck(event, ...args) {
    const s = state.socket;
    if (!s || !s.connected) return Promise.resolve({ error: "timeout" });
    return s.timeout(ACK_MS).emitWithAck(event, ...args).catch(() => ({ error: "timeout" }));
  }

  // ---------- conversations ----------
  const roomKey = (name) => `room:${name}`;
  const dmKey = (nick, id) => (nick ? `dm:${nick.toLowerCase()}` : `dm#${id}`);

  function conv(key, init) {
    let c = state.convs.get(key);
    if (!c) {
      c = { key, items: [], ids: new Set(), unread: 0, mention: false, joined: false, members: new Map(), typists: new Map(), ...init };
      state.convs.set(key, c);
    }
    return c;
  }
  function roomConv(name) {
    return conv(roomKey(name), { kind: "room", name });
  }
  function dmConv(nick, id) {
    const c = conv(dmKey(nick, id), { kind: "dm", name: displayNick(nick, id), to: nick || id });
    if (nick) c.name = nick;
    return c;
  }
  const active = () => (state.active ? state.convs.get(state.active) : null);

  /** Adds a chat message (room or private) unless already there; renders it. */
  function addMessage(c, m, { history = false } = {}) {
    if (m.id && c.ids.has(m.id)) return;
    if (m.id) c.ids.add(m.id);
    const item = { type: "msg", id: m.id, from: m.from, nick: m.nick, text: m.text, time: m.time, history, private: c.kind === "dm" };
    insertItem(c, item);
    if (!history && !isMe(m.from)) {
      if (c.key !== state.active || document.hidden) {
        c.unread++;
        if (mentionsMe(m.text)) c.mention = true;
      }
      clearTypist(c, m.from);
    }
    renderSidebarLists();
  }
  function addNotice(c, kind, text, time = Date.now()) {
    insertItem(c, { type: "notice", kind, text, time });
  }
  /** Keeps items in time order (history arrives before the join notice, but a reconnect may interleave). */
  function insertItem(c, item) {
    let i = c.items.length;
    while (i > 0 && c.items[i - 1].time > item.time) i--;
    c.items.splice(i, 0, item);
    if (c.key !== state.active) return;
    if (i === c.items.length - 1) appendRendered(c, i);
    else renderMessages();
  }
  function mentionsMe(text) {
    if (!state.me) return false;
    return new RegExp(`(^|[^A-Za-z0-9_-])@${state.me.nick}(?![A-Za-z0-9_-])`, "i").test(text);
  }

  // ---------- rendering: sidebar ----------
  function renderSidebarLists() {
    // rooms: the defaults, then every other room we know, in order of appearance
    const rooms = [...DEFAULT_ROOMS];
    for (const c of state.convs.values()) if (c.kind === "room" && !rooms.includes(c.name)) rooms.push(c.name);
    ui.roomList.replaceChildren(
      ...rooms.map((name) => {
        const c = state.convs.get(roomKey(name));
        const joined = !!(c && c.joined);
        const current = state.active === roomKey(name);
        const unread = c && c.unread > 0 && !current ? c.unread : 0;
        const label = `${name}${joined ? "" : " (not joined)"}${unread ? `, ${unread} unread` : ""}`;
        return el("li", {},
          el("button", {
            type: "button", class: `side-item${joined ? "" : " not-joined"}${unread ? " unread" : ""}`,
            "aria-current": current ? "true" : null, "aria-label": label, "data-room": name,
            onclick: () => openRoom(name),
          },
          el("span", { class: "hash", "aria-hidden": "true", text: "#" }),
          el("span", { class: "label", text: name }),
          unread ? el("span", { class: "badge", "aria-hidden": "true", text: unread > 99 ? "99+" : String(unread) }) : null));
      }));

    const dms = [...state.convs.values()].filter((c) => c.kind === "dm");
    ui.dmEmpty.hidden = dms.length > 0;
    ui.dmList.replaceChildren(
      ...dms.map((c) => {
        const current = state.active === c.key;
        const unread = c.unread > 0 && !current ? c.unread : 0;
        return el("li", {},
          el("button", {
            type: "button", class: `side-item${unread ? " unread" : ""}`, "aria-current": current ? "true" : null,
            "aria-label": `Direct messages with ${c.name}${unread ? `, ${unread} unread` : ""}`, "data-dm": c.name,
            onclick: () => activate(c.key),
          },
          avatar(c.name, "avatar small"),
          el("span", { class: "label", text: c.name }),
          unread ? el("span", { class: "badge", "aria-hidden": "true", text: String(unread) }) : null));
      }));

    let anyUnread = false;
    for (const c of state.convs.values()) if (c.unread > 0 && c.key !== state.active) anyUnread = true;
    ui.menuBadge.hidden = !anyUnread;
    renderMembers();
  }

  function renderMembers() {
    const c = active();
    if (!c || c.kind !== "room" || !c.joined) {
      ui.membersTitle.textContent = "Members";
      ui.memberList.replaceChildren(el("li", { class: "side-empty", text: c && c.kind === "dm" ? "Open a room to see who is in it." : "Join a room to see who is in it." }));
      return;
    }
    ui.membersTitle.textContent = `In #${c.name} · ${c.members.size}`;
    const members = [...c.members.entries()].sort(([ia, a], [ib, b]) => {
      if (isMe(ia)) return -1;
      if (isMe(ib)) return 1;
      return displayNick(a, ia).localeCompare(displayNick(b, ib));
    });
    ui.memberList.replaceChildren(
      ...members.map(([id, nick]) => {
        const name = displayNick(nick, id);
        const me = isMe(id);
        const a = avatar(name, "avatar small presence");
        return el("li", { "data-member": name },
          el("button", {
            type: "button", class: "side-item", disabled: me,
            "aria-label": me ? `${name} (you)` : `Message ${name} privately`, title: me ? null : `Message ${name} privately`,
            onclick: me ? null : () => { activate(dmConv(nick, id).key); ui.text.focus(); },
          }, a, el("span", { class: "label", text: name }), me ? el("span", { class: "you", text: "you" }) : null));
      }));
  }

  // ---------- rendering: main pane ----------
  function renderHeader() {
    const c = active();
    if (!c) {
      ui.convTitle.textContent = "edged chat";
      ui.convSub.textContent = "Pick a room to start";
      ui.leave.hidden = true;
      ui.text.placeholder = "Join a room to send messages";
      ui.messages.setAttribute("aria-label", "Messages");
      return;
    }
    if (c.kind === "room") {
      ui.convTitle.textContent = `#${c.name}`;
      const n = c.members.size;
      ui.convSub.textContent = c.joined ? `${n} ${n === 1 ? "member" : "members"} online` : "You are not in this room";
      ui.leave.hidden = !c.joined;
      ui.text.placeholder = `Message #${c.name}`;
      ui.messages.setAttribute("aria-label", `Messages in #${c.name}`);
    } else {
      ui.convTitle.textContent = `@${c.name}`;
      ui.convSub.textContent = "Direct messages · only the two of you see these";
      ui.leave.hidden = true;
      ui.text.placeholder = `Message @${c.name}`;
      ui.messages.setAttribute("aria-label", `Direct messages with ${c.name}`);
    }
  }

  function renderMessages() {
    const c = active();
    const box = ui.messages;
    if (!c) {
      box.replaceChildren(el("div", { class: "empty-state" },
        el("div", { class: "big", "aria-hidden": "true", text: "#" }),
        el("h2", { text: "You are not in any room" }),
        el("p", { text: "Pick a room on the left, or create one by typing its name." })));
      return;
    }
    const intro = c.kind === "room"
      ? el("div", { class: "room-intro" },
        el("div", { class: "big", "aria-hidden": "true", text: "#" }),
        el("h2", { text: `Welcome to #${c.name}` }),
        el("p", { text: `This is the start of the #${c.name} room. Messages are kept for people who join later.` }))
      : el("div", { class: "room-intro" },
        avatar(c.name, "avatar big-avatar"),
        el("h2", { text: c.name }),
        el("p", { text: `This is your private conversation with ${c.name}. Private messages are not stored.` }));
    box.replaceChildren(intro);
    for (let i = 0; i < c.items.length; i++) box.append(...renderItem(c, i));
    scrollToEnd(true);
  }

  function appendRendered(c, i) {
    const stick = nearBottom();
    ui.messages.append(...renderItem(c, i));
    if (stick || (c.items[i].type === "msg" && isMe(c.items[i].from))) scrollToEnd(true);
  }

  function renderItem(c, i) {
    const item = c.items[i];
    const prev = c.items[i - 1];
    const out = [];
    if (!prev || new Date(prev.time).toDateString() !== new Date(item.time).toDateString()) {
      out.push(el("div", { class: "day", role: "separator", text: fmtDay(item.time) }));
    }
    if (item.type === "notice") {
      const icon = { join: "→", leave: "←", warn: "!", info: "•" }[item.kind] || "•";
      out.push(el("div", { class: `notice ${item.kind}`, "data-notice": item.kind },
        el("span", { class: "icon", "aria-hidden": "true", text: icon }),
        el("span", { class: "notice-text", text: item.text }),
        timeEl(item.time)));
      return out;
    }
    const name = displayNick(item.nick, item.from);
    const cont = prev && prev.type === "msg" && prev.from === item.from && item.time - prev.time < GROUP_MS && out.length === 0;
    const classes = ["msg"];
    if (cont) classes.push("cont");
    if (item.private) classes.push("private");
    if (item.history) classes.push("history");
    if (!isMe(item.from) && mentionsMe(item.text)) classes.push("mention");
    const text = el("p", { class: "msg-text" });
    appendText(text, item.text);
    const head = cont ? null : el("div", { class: "msg-head" },
      el("span", { class: `author${isMe(item.from) ? " is-me" : ""}`, text: name }), timeEl(item.time));
    out.push(el("article", { class: classes.join(" "), "data-id": item.id, "data-from": name, "aria-label": `${name} at ${fmtTime(item.time)}` },
      cont ? el("span", { class: "gutter", "aria-hidden": "true", text: fmtTime(item.time) }) : avatar(name),
      el("div", { class: "msg-body" }, head, text)));
    return out;
  }

  /** Text with @mentions of the current user highlighted; never HTML. */
  function appendText(node, text) {
    if (!state.me) return void (node.textContent = text);
    const re = new RegExp(`@${state.me.nick}(?![A-Za-z0-9_-])`, "gi");
    let last = 0;
    for (const m of text.matchAll(re)) {
      node.append(text.slice(last, m.index), el("span", { class: "mention-tag", text: m[0] }));
      last = m.index + m[0].length;
    }
    node.append(text.slice(last));
  }

  const nearBottom = () => ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
  const scrollToEnd = () => { ui.messages.scrollTop = ui.messages.scrollHeight; };

  function renderTyping() {
    const c = active();
    const names = c ? [...c.typists.values()].map((t) => t.name) : [];
    if (names.length === 0) return void ui.typing.replaceChildren();
    let text;
    if (names.length === 1) text = `${names[0]} is typing`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing`;
    else text = "Several people are typing";
    ui.typing.replaceChildren(el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")), el("span", { text: `${text}…` }));
  }
  function clearTypist(c, id) {
    const t = c.typists.get(id);
    if (!t) return;
    clearTimeout(t.timer);
    c.typists.delete(id);
    if (c.key === state.active) renderTyping();
  }

  function renderComposer() {
    const c = active();
    const usable = !!c && (c.kind === "dm" || c.joined) && !!state.socket && state.socket.connected;
    ui.text.disabled = !usable;
    ui.send.disabled = !usable;
    ui.composer.classList.toggle("disabled", !usable);
  }

  function activate(key) {
    stopTyping();
    state.active = key;
    const c = active();
    if (c) { c.unread = 0; c.mention = false; }
    setComposerError("");
    renderHeader();
    renderMessages();
    renderTyping();
    renderSidebarLists();
    renderComposer();
    closeDrawer();
  }

  function setComposerError(msg) {
    ui.composerError.textContent = msg;
  }

  // ---------- actions ----------
  async function openRoom(name) {
    const c = state.convs.get(roomKey(name));
    if (c && c.joined) return activate(c.key);
    ui.joinError.textContent = "";
    await joinRoom(name, { activateIt: true });
  }

  async function joinRoom(name, { activateIt = false } = {}) {
    const c = roomConv(name);
    // activate first: the history and the join notice arrive right after the ack
    if (activateIt) activate(c.key);
    const res = await emitAck("join", name);
    if (!res || !res.ok) {
      const msg = errorText(res && res.error);
      if (activateIt) setComposerError(msg);
      ui.joinError.textContent = msg;
      if (!c.joined && !DEFAULT_ROOMS.includes(name) && c.items.length === 0) {
        state.convs.delete(c.key);
        if (state.active === c.key) state.active = null;
        activate(firstJoinedRoom());
      }
      return false;
    }
    c.joined = true;
    renderSidebarLists();
    renderHeader();
    renderComposer();
    await refreshPresence(name);
    return true;
  }

  async function refreshPresence(name) {
    const res = await emitAck("presence", name);
    if (!res || !res.ok) return;
    const c = roomConv(name);
    c.members = new Map(res.members.map((m) => [m.id, m.nick]));
    if (state.me) c.members.set(state.me.id, state.me.nick); // the ack may race our own join notice
    if (state.active === c.key) { renderHeader(); renderMembers(); }
  }

  async function leaveRoom(name) {
    const c = roomConv(name);
    const res = await emitAck("leave", name);
    if (!res || (!res.ok && res.error !== "not in room")) return setComposerError(errorText(res && res.error));
    c.joined = false;
    c.members.clear();
    c.typists.clear();
    addNotice(c, "leave", `You left #${name}`);
    if (state.active === c.key) activate(firstJoinedRoom());
    else renderSidebarLists();
  }

  function firstJoinedRoom() {
    for (const c of state.convs.values()) if (c.kind === "room" && c.joined) return c.key;
    return null;
  }

  async function send(raw) {
    const c = active();
    const text = raw.replace(/\s+$/, "");
    if (!text.trim()) return true;
    // commands
    const cmd = /^\/(\w+)(?:\s+([\s\S]*))?$/.exec(text);
    if (cmd) {
      const [, name, rest = ""] = cmd;
      if (name === "msg" || name === "w" || name === "whisper") {
        const m = /^(\S+)\s+([\s\S]+)$/.exec(rest.trim());
        if (!m) { setComposerError("Usage: /msg nick your message"); return false; }
        return sendPrivate(m[1], m[2]);
      }
      if (name === "join") {
        const room = rest.trim().replace(/^#/, "");
        if (!ROOM_RE.test(room)) { setComposerError(errorText("invalid room")); return false; }
        await openRoom(room);
        return true;
      }
      if (name === "leave" || name === "part") {
        if (c && c.kind === "room" && c.joined) await leaveRoom(c.name);
        return true;
      }
      if (name !== "me") { setComposerError(`Unknown command /${name}. Try /msg, /join or /leave.`); return false; }
    }
    if (!c) return false;
    if (c.kind === "dm") return sendPrivate(c.to, text, c);
    const res = await emitAck("message", { room: c.name, text });
    if (!res || !res.ok) { setComposerError(errorText(res && res.error)); return false; }
    return true;
  }

  async function sendPrivate(to, text, c) {
    const res = await emitAck("private", { to, text });
    if (!res || !res.ok) {
      setComposerError(res && res.error === "no such user" ? `${to} is not online.` : errorText(res && res.error));
      return false;
    }
    if (!c) {
      // a /msg: use the nick as the room members know it, when we know it
      let nick = to;
      for (const r of state.convs.values()) for (const n of r.members.values()) if (n && n.toLowerCase() === to.toLowerCase()) nick = n;
      c = dmConv(nick);
    }
    addMessage(c, { id: res.id, time: res.time, from: state.me.id, nick: state.me.nick, text });
    if (state.active !== c.key) activate(c.key);
    return true;
  }

  function noteTyping() {
    const c = active();
    if (!c || c.kind !== "room" || !c.joined || !state.socket || !state.socket.connected) return;
    const now = Date.now();
    if (ui.text.value.trim() === "") return stopTyping();
    if (typingOut.room !== c.name || now - typingOut.lastSent > TYPING_SEND_MS) {
      if (typingOut.room && typingOut.room !== c.name) stopTyping();
      state.socket.volatile.emit("typing", { room: c.name, typing: true });
      typingOut.room = c.name;
      typingOut.lastSent = now;
    }
    clearTimeout(typingOut.idle);
    typingOut.idle = setTimeout(stopTyping, TYPING_IDLE_MS);
  }
  function stopTyping() {
    clearTimeout(typingOut.idle);
    if (typingOut.room && state.socket && state.socket.connected) {
      state.socket.volatile.emit("typing", { room: typingOut.room, typing: false });
    }
    typingOut.room = null;
    typingOut.lastSent = 0;
  }

  // ---------- connection ----------
  function connect(nick) {
    if (typeof io !== "function") {
      ui.loginError.textContent = "The chat client could not be loaded from the server.";
      return;
    }
    ui.loginButton.disabled = true;
    ui.loginButton.textContent = "Connecting…";
    const socket = io("/chat", { auth: { nick } });
    state.socket = socket;

    socket.on("connect", async () => {
      const first = !state.everConnected;
      state.everConnected = true;
      state.me = { id: socket.id, nick };
      setStatus("online", "Online");
      hideBanner();
      if (first) {
        showApp();
        await joinRoom(FIRST_ROOM, { activateIt: true });
        return;
      }
      // back after a disconnection: join our rooms again (history is deduplicated by id)
      for (const c of state.convs.values()) {
        if (c.kind !== "room") continue;
        if (c.joined || c.rejoin) {
          c.rejoin = false;
          c.members.clear();
          await joinRoom(c.name);
        }
      }
      renderComposer();
    });

    socket.on("connect_error", (err) => {
      const msg = err && err.message;
      if (!state.everConnected) {
        // refused by the chat plugin (nick taken, invalid nick) or the server is unreachable
        socket.disconnect();
        state.socket = null;
        ui.loginButton.disabled = false;
        ui.loginButton.textContent = "Join chat";
        ui.loginError.textContent = ERRORS[msg] || (socket.active ? "Cannot reach the chat server." : `Cannot join: ${msg}`);
        ui.nick.setAttribute("aria-invalid", "true");
        ui.nick.focus();
        ui.nick.select();
        return;
      }
      if (socket.active) {
        showBanner("Connection lost. Reconnecting…");
      } else {
        showBanner(`The server refused the connection: ${ERRORS[msg] || msg}`, { error: true, action: true });
      }
    });

    socket.on("disconnect", (reason) => {
      setStatus("offline", "Offline");
      for (const c of state.convs.values()) {
        if (c.kind === "room" && c.joined) { c.rejoin = true; c.joined = false; }
        c.typists.clear();
      }
      typingOut.room = null;
      renderTyping();
      renderComposer();
      renderHeader();
      renderSidebarLists();
      if (reason === "io server disconnect") showBanner("You were disconnected by the server.", { error: true, action: true });
      else if (reason !== "io client disconnect") showBanner("Connection lost. Reconnecting…");
    });

    socket.on("message", (m) => {
      if (!m || typeof m.room !== "string") return;
      addMessage(roomConv(m.room), m);
    });

    socket.on("history", (h) => {
      if (!h || typeof h.room !== "string" || !Array.isArray(h.messages)) return;
      const c = roomConv(h.room);
      for (const m of h.messages) addMessage(c, m, { history: true });
    });

    socket.on("private", (m) => {
      if (!m) return;
      addMessage(dmConv(m.nick, m.from), m);
    });

    socket.on("notice", (n) => {
      if (!n) return;
      if (n.type === "join" || n.type === "leave") {
        const c = roomConv(n.room);
        const name = displayNick(n.nick, n.id);
        if (n.type === "join") {
          c.members.set(n.id, n.nick);
          addNotice(c, "join", isMe(n.id) ? `You joined #${n.room}` : `${name} joined #${n.room}`, n.time);
        } else {
          c.members.delete(n.id);
          clearTypist(c, n.id);
          addNotice(c, "leave", `${name} left #${n.room}`, n.time);
        }
        if (c.key === state.active) { renderHeader(); renderMembers(); }
      } else if (n.type === "muted") {
        const msg = `You are muted until ${fmtTime(n.until)}.`;
        const c = active();
        if (c) addNotice(c, "warn", msg);
        setComposerError(msg);
      }
    });

    socket.on("typing", (t) => {
      if (!t || typeof t.room !== "string" || isMe(t.id)) return;
      const c = roomConv(t.room);
      const prev = c.typists.get(t.id);
      if (prev) clearTimeout(prev.timer);
      if (t.typing) {
        c.typists.set(t.id, { name: displayNick(t.nick, t.id), timer: setTimeout(() => clearTypist(c, t.id), TYPING_SHOW_MS) });
      } else {
        c.typists.delete(t.id);
      }
      if (c.key === state.active) renderTyping();
    });
  }

  function setStatus(kind, text) {
    ui.meStatus.className = `me-status ${kind}`;
    ui.meStatusText.textContent = text;
  }
  function showBanner(text, { error = false, action = false } = {}) {
    ui.banner.hidden = false;
    ui.banner.classList.toggle("error", error);
    ui.bannerText.textContent = text;
    ui.bannerAction.hidden = !action;
  }
  function hideBanner() { ui.banner.hidden = true; }

  function showApp() {
    ui.login.hidden = true;
    ui.app.hidden = false;
    ui.meNick.textContent = state.me.nick;
    ui.meAvatar.textContent = state.me.nick.slice(0, 1);
    ui.meAvatar.style.setProperty("--h", hue(state.me.nick));
    document.title = `edged chat · ${state.me.nick}`;
    renderSidebarLists();
    renderHeader();
    renderMessages();
    ui.text.focus();
  }

  function signOut() {
    stopTyping();
    if (state.socket) state.socket.disconnect();
    state.socket = null;
    state.me = null;
    state.convs.clear();
    state.active = null;
    state.everConnected = false;
    hideBanner();
    ui.app.hidden = true;
    ui.login.hidden = false;
    ui.loginButton.disabled = false;
    ui.loginButton.textContent = "Join chat";
    ui.loginError.textContent = "";
    document.title = "edged chat";
    ui.nick.focus();
  }

  // ---------- drawer (phone width) ----------
  function openDrawer() {
    ui.app.classList.add("drawer-open");
    ui.backdrop.hidden = false;
    ui.openSidebar.setAttribute("aria-expanded", "true");
  }
  function closeDrawer() {
    if (!ui.app.classList.contains("drawer-open")) return;
    ui.app.classList.remove("drawer-open");
    ui.backdrop.hidden = true;
    ui.openSidebar.setAttribute("aria-expanded", "false");
  }

  // ---------- wiring ----------
  ui.loginForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const nick = ui.nick.value.trim();
    if (!NICK_RE.test(nick)) {
      ui.loginError.textContent = errorText("invalid nick");
      ui.nick.setAttribute("aria-invalid", "true");
      return;
    }
    ui.nick.removeAttribute("aria-invalid");
    ui.loginError.textContent = "";
    try { localStorage.setItem("edged-chat-nick", nick); } catch { /* private mode */ }
    connect(nick);
  });
  ui.nick.addEventListener("input", () => {
    ui.nick.removeAttribute("aria-invalid");
    ui.loginError.textContent = "";
  });

  ui.joinForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = ui.joinInput.value.trim().replace(/^#/, "");
    if (!name) return;
    if (!ROOM_RE.test(name)) { ui.joinError.textContent = errorText("invalid room"); return; }
    ui.joinError.textContent = "";
    ui.joinInput.value = "";
    await openRoom(name);
  });
  ui.joinInput.addEventListener("input", () => { ui.joinError.textContent = ""; });

  ui.composer.addEventListener("submit", async (e) => {
    e.preventDefault();
    const raw = ui.text.value;
    if (!raw.trim()) return;
    setComposerError("");
    stopTyping();
    ui.text.value = "";
    autosize();
    const ok = await send(raw);
    if (!ok && ui.text.value === "") { ui.text.value = raw; autosize(); }
    ui.text.focus();
  });
  ui.text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.composer.requestSubmit();
    }
  });
  function autosize() {
    ui.text.style.height = "auto";
    ui.text.style.height = `${Math.min(ui.text.scrollHeight, 160)}px`;
  }
  ui.text.addEventListener("input", () => {
    autosize();
    if (ui.composerError.textContent) setComposerError("");
    noteTyping();
  });

  ui.leave.addEventListener("click", () => {
    const c = active();
    if (c && c.kind === "room") leaveRoom(c.name);
  });
  ui.signOut.addEventListener("click", signOut);
  ui.bannerAction.addEventListener("click", () => {
    if (!state.socket) return;
    showBanner("Reconnecting…");
    state.socket.connect();
  });
  ui.openSidebar.addEventListener("click", openDrawer);
  ui.closeSidebar.addEventListener("click", closeDrawer);
  ui.backdrop.addEventListener("click", closeDrawer);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeDrawer(); });
  document.addEventListener("visibilitychange", () => {
    const c = active();
    if (!document.hidden && c && c.unread) { c.unread = 0; renderSidebarLists(); }
  });

  try { ui.nick.value = localStorage.getItem("edged-chat-nick") || ""; } catch { /* private mode */ }
  ui.nick.focus();
})();

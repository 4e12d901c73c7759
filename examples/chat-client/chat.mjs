// A terminal client for the edged `chat` plugin (namespace /chat).
//
//   node chat.mjs NICK [ROOM] [URL]
//
// Lines you type are sent to the room; "/to NICK text" sends a private
// message, "/who" lists the room, "/quit" leaves. Messages, notices and
// private messages of others are printed as they arrive.
import { io } from "socket.io-client";
import { createInterface } from "node:readline";

const [nick, room = "lobby", url = "http://127.0.0.1:3000"] = process.argv.slice(2);
if (!nick) {
  console.error("usage: node chat.mjs NICK [ROOM] [URL]");
  process.exit(2);
}

const socket = io(`${url}/chat`, { auth: { nick } });
const time = (ms) => new Date(ms).toLocaleTimeString();

socket.on("connect_error", (err) => {
  console.error(`cannot join the chat: ${err.message}`);
  process.exit(1);
});
socket.on("message", (m) => console.log(`${time(m.time)} [${m.room}] ${m.nick ?? m.from}: ${m.text}`));
socket.on("private", (m) => console.log(`${time(m.time)} (private) ${m.nick ?? m.from}: ${m.text}`));
socket.on("notice", (n) => {
  if (n.type === "muted") console.log(`* you are muted until ${time(n.until)}`);
  else console.log(`* ${n.nick ?? n.id} ${n.type === "join" ? "joined" : "left"} ${n.room}`);
});
socket.on("disconnect", (reason) => console.log(`* disconnected: ${reason}`));

// typed lines wait until the room is joined
let joinedRoom;
const ready = new Promise((resolve) => (joinedRoom = resolve));
socket.on("connect", async () => {
  const joined = await socket.emitWithAck("join", room);
  if (joined.error) {
    console.error(`cannot join ${room}: ${joined.error}`);
    process.exit(1);
  }
  console.log(`* connected as ${nick} in ${room}`);
  joinedRoom();
});

const input = createInterface({ input: process.stdin });
input.on("line", async (line) => {
  await ready;
  let answer;
  if (line === "/quit") {
    socket.disconnect();
    input.close();
    return;
  } else if (line === "/who") {
    answer = await socket.emitWithAck("presence", room);
    if (answer.ok) console.log(`* in ${room}: ${answer.members.map((m) => m.nick ?? m.id).join(", ")}`);
  } else if (line.startsWith("/to ")) {
    const [, to, ...words] = line.split(" ");
    answer = await socket.emitWithAck("private", { to, text: words.join(" ") });
  } else if (line.trim() !== "") {
    answer = await socket.emitWithAck("message", { room, text: line });
  }
  if (answer?.error) console.log(`! ${answer.error}`);
});
input.on("close", async () => {
  await ready;
  socket.disconnect();
});

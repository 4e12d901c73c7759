// The benchmark's echo contract (namespace "/") on the reference Node.js
// server: socket.io@4.8.1 with its default `ws` WebSocket server.
// Usage: node server.mjs --listen 127.0.0.1:PORT
import { createServer } from "node:http";
import { Server } from "socket.io";

const i = process.argv.indexOf("--listen");
const [host, port] = (i >= 0 ? process.argv[i + 1] : "127.0.0.1:3200").split(":");

const httpServer = createServer();
const io = new Server(httpServer, { serveClient: false });

io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    if (ack) ack(...args);
    else socket.emit("echo", ...args);
  });
  socket.on("join", (room, ack) => {
    if (typeof room !== "string" || room === "") return;
    socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("broadcast", (room, payload, ack) => {
    if (typeof room !== "string" || room === "") return;
    io.to(room).emit("msg", payload);
    if (typeof ack === "function") ack();
  });
});

httpServer.listen(Number(port), host);
const stop = () => io.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

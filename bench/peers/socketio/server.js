// The socket.io 4 peer: one process, rooms, broadcast to the room.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT || 8300);
const http = createServer();
const io = new Server(http, { transports: ["websocket"], maxHttpBufferSize: 1e6 });
io.on("connection", (socket) => {
  socket.on("join", (room, ack) => { socket.join(room); ack?.(); });
  socket.on("chat", (room, text) => io.to(room).emit("chat", text));
});
http.listen(port, "127.0.0.1", () => console.log(`socket.io peer on ${port}`));

"""The peer: python-socketio's AsyncServer on aiohttp with AsyncRedisManager.

What a Python team would pick instead of chatd: WebSocket transport only, events `join`
(acknowledged) and `msg` (emitted to the room, the sender included), every emit going through
Redis Pub/Sub even with one process.
"""

import argparse

import socketio
from aiohttp import web

from chatd.bench.servers import new_loop

PING_INTERVAL = 30  # the same heartbeat as chatd's


def create_app(redis_url: str, channel: str) -> web.Application:
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=socketio.AsyncRedisManager(redis_url, channel=channel),
        transports=["websocket"],
        ping_interval=PING_INTERVAL,
        logger=False,
        engineio_logger=False,
    )

    @sio.event
    async def join(sid: str, data: dict) -> bool:
        await sio.enter_room(sid, data["room"])
        return True

    @sio.event
    async def msg(sid: str, data: dict) -> None:
        await sio.emit("msg", data, room=data["room"])

    app = web.Application()
    sio.attach(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="python-socketio with AsyncRedisManager")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--channel", default="chatd-bench")
    args = parser.parse_args()
    app = create_app(args.redis_url, args.channel)
    web.run_app(
        app, host=args.host, port=args.port, access_log=None, print=None, loop=new_loop(args.uvloop)
    )


if __name__ == "__main__":
    main()

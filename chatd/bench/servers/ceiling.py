"""The ceiling: a bare aiohttp WebSocket broadcast, no database, no Redis, no auth.

A client opens `/ws?room=NAME`; every text frame it sends goes, unchanged, to every socket in
that room (the sender's own included). The loop over the room awaits each `send_str`, which
only suspends when that socket's transport is paused: the fastest simple aiohttp broadcast
(and the reason it is a ceiling, not a design: one stalled reader would stall the room).
"""

import argparse

from aiohttp import WSMsgType, web

from chatd.bench.servers import new_loop

ROOMS = web.AppKey("rooms", dict[str, set[web.WebSocketResponse]])
HEARTBEAT = 30.0  # the same heartbeat as chatd's


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, compress=False)
    await ws.prepare(request)
    room = request.app[ROOMS].setdefault(request.query.get("room", ""), set())
    room.add(ws)
    try:
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                for peer in list(room):
                    try:
                        await peer.send_str(message.data)
                    except ConnectionError:
                        room.discard(peer)
    finally:
        room.discard(ws)
    return ws


def create_app() -> web.Application:
    app = web.Application()
    app[ROOMS] = {}
    app.router.add_get("/ws", websocket)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="bare aiohttp WebSocket broadcast")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    args = parser.parse_args()
    web.run_app(
        create_app(),
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
        loop=new_loop(args.uvloop),
    )


if __name__ == "__main__":
    main()

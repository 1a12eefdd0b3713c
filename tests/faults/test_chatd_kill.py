"""A chatd process SIGKILLed behind nginx (three processes, deploy/nginx.conf) mid-stream: its
clients reconnect through nginx with `resume`, land on the others and lose nothing, see nothing
twice. Then twenty reconnect/resume cycles with no new traffic replay nothing."""

import asyncio
import time

import pytest

from tests.nginx_cluster import NginxCluster, Reader, post_all, running_nginx_cluster, wait_for

pytestmark = pytest.mark.slow

READERS = 30  # ten sockets on each process (nginx's least_conn)
POSTERS = 3
TOTAL = 600  # messages, TOTAL // POSTERS from each poster
CYCLES = 20
CYCLING_READERS = 3


async def test_a_killed_process_moves_its_clients_with_nothing_lost(settings, tmp_path, figure):
    async with running_nginx_cluster(settings, tmp_path / "nginx") as cluster:
        owner = (await cluster.users(1))[0]
        room_id = await cluster.http.create_room(owner)
        tokens = await cluster.users(READERS, room_id)
        readers = [Reader(cluster, t, room_id, after=READERS) for t in tokens]
        last = READERS + TOTAL
        reading = [cluster.spawn(r.run(last)) for r in readers]
        await wait_for(lambda: all(r.connected.is_set() for r in readers), within=60)
        victim = cluster.servers[1]
        victim_id = await cluster.instance_of(victim)
        posting = [
            cluster.spawn(post_all(cluster.http, owner, room_id, TOTAL // POSTERS, f"p{n}"))
            for n in range(POSTERS)
        ]
        await wait_for(lambda: min(r.last for r in readers) >= READERS + TOTAL // 3, within=120)
        victim.kill()
        killed = time.monotonic()
        moved = [r for r in readers if r.instances[0] == victim_id]
        await wait_for(lambda: all(len(r.instances) >= 2 for r in moved), within=60)
        moved_in = time.monotonic() - killed
        await asyncio.wait_for(asyncio.gather(*posting), 120)
        await asyncio.wait_for(asyncio.gather(*reading), 120)
        replayed = await resume_cycles(cluster, tokens[:CYCLING_READERS], room_id, last)

    expected = list(range(READERS + 1, last + 1))
    lost = sum(len(set(expected) - set(r.seqs)) for r in readers)
    duplicates = sum(len(r.seqs) - len(set(r.seqs)) for r in readers)
    figure(
        f"lost {lost} of {TOTAL} to {READERS} sockets, duplicates {duplicates}, "
        f"{len(moved)} sockets moved off the killed process within {moved_in:.1f} s, "
        f"{CYCLES * CYCLING_READERS} resume cycles replayed {replayed}"
    )
    assert moved, "least_conn put sockets on every process"
    assert all(victim_id not in r.instances[1:] for r in moved)
    assert (lost, duplicates) == (0, 0)
    assert all(r.seqs == expected for r in readers), "in order"
    assert replayed == 0


async def resume_cycles(cluster: NginxCluster, tokens: list[str], room_id: int, last: int) -> int:
    """CYCLES reconnects of each token through nginx with `resume` at `last` (all it has), then a
    `resume` frame on the open socket too; the messages either replayed."""
    replayed = 0
    for _ in range(CYCLES):
        for token in tokens:
            client, _ = await cluster.connect(token, {room_id: last})
            await client.send({"type": "resume", "rooms": {str(room_id): last}, "ref": "r"})
            frames = await client.frames_until(lambda f: f["type"] == "resumed", within=30)
            replayed += sum(1 for f in frames if is_message(f, room_id))
            await client.ws.close()
            cluster.clients.remove(client)
    return replayed


def is_message(frame: dict, room_id: int) -> bool:
    return (
        frame["type"] in {"new_message", "system_message"}
        and frame["message"]["room_id"] == room_id
    )

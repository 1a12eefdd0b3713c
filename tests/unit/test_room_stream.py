"""The room model's checker (tests/room_model.py): it passes what the contract allows and
reports what it does not."""

from tests.room_model import RoomStream


def receive_all(stream: RoomStream, seqs: list[int]) -> list[str]:
    return [problem for seq in seqs if (problem := stream.receive(seq))]


def test_an_unbroken_stream_passes_and_is_complete():
    stream = RoomStream()
    stream.opened(member=True, room_last=0, resume=False)
    assert receive_all(stream, [1, 2, 3]) == []
    assert stream.complete(3) and not stream.complete(4)


def test_a_duplicate_a_step_back_and_a_gap_are_reported():
    stream = RoomStream()
    stream.opened(member=True, room_last=0, resume=False)
    problems = receive_all(stream, [1, 2, 2, 1, 4])
    assert len(problems) == 3
    assert "duplicate" in problems[0] and "duplicate" in problems[1] and "gap" in problems[2]


def test_a_socket_opened_without_resume_starts_where_the_room_is():
    stream = RoomStream()
    stream.opened(member=True, room_last=7, resume=False)
    assert stream.complete(7), "nothing before the socket opened is owed"
    assert receive_all(stream, [8, 9]) == []
    late = RoomStream()
    late.opened(member=True, room_last=7, resume=False)
    assert receive_all(late, [9]) != [], "seq 8 came after the socket opened: it is owed"


def test_a_resume_goes_on_right_after_the_last_seq_seen():
    stream = RoomStream()
    stream.opened(member=True, room_last=0, resume=False)
    receive_all(stream, [1, 2])
    stream.opened(member=True, room_last=5, resume=True)
    assert not stream.complete(5)
    assert receive_all(stream, [4]) != [], "3 was skipped"
    resumed = RoomStream(last=2)
    resumed.opened(member=True, room_last=5, resume=True)
    assert receive_all(resumed, [3, 4, 5]) == [] and resumed.complete(5)


def test_a_rejoin_may_skip_what_was_posted_while_out_but_nothing_after():
    stream = RoomStream()
    stream.opened(member=True, room_last=0, resume=False)
    receive_all(stream, [1, 2])
    stream.left(3, on_this_socket=False)
    assert stream.complete(9), "a room left owes nothing"
    stream.joined(9)
    assert receive_all(stream, [10]) == [], "its own joined message (9) may be missed"
    again = RoomStream(last=2)
    again.joined(9)
    assert receive_all(again, [11]) != [], "10 came after the join: it is owed"


def test_after_a_leave_on_this_socket_nothing_more_of_the_room_arrives():
    stream = RoomStream(last=4)
    stream.left(5, on_this_socket=True)
    assert receive_all(stream, [5]) == []
    assert receive_all(stream, [6]) != []


def test_a_socket_of_a_non_member_gets_no_gap_allowance():
    stream = RoomStream(last=4)
    stream.opened(member=False, room_last=9, resume=False)
    assert stream.complete(9)
    assert receive_all(stream, [8]) != []

"""Frames are encoded once, in the contract's shapes, and read back for routing."""

import json

from chatd.application.frames import event_frame, message_ack, message_text, position_frame
from chatd.domain.events import (
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PresenceChanged,
    ReadMarkerMoved,
    SessionsRevoked,
    UserTyping,
)
from chatd.infrastructure.channels import (
    bus_payload,
    channels_of,
    read_payload,
    room_channel,
    user_channel,
)
from tests.fake_rooms import message
from tests.fakes import ALICE, EPOCH

USER = {"id": 1, "username": "alice", "created_at": EPOCH.isoformat()}


def test_message_frames():
    frame = json.loads(event_frame(MessagePosted(message(3, 7))))
    assert frame == {
        "type": "new_message",
        "message": {
            "id": 300_007,
            "room_id": 3,
            "seq": 7,
            "kind": "user",
            "author": USER,
            "body": "m7",
            "client_id": None,
            "created_at": EPOCH.isoformat(),
            "edited_at": None,
            "deleted": False,
        },
    }
    envelope = read_payload(bus_payload(MessagePosted(message(3, 7))))
    assert (envelope.type, envelope.room_id, envelope.seq, envelope.user_id) == (
        "new_message",
        3,
        7,
        1,
    )


def test_membership_and_typing_frames_and_their_channels():
    for event, kind in (
        (MemberJoined(room_id=3, user=ALICE), "join_room"),
        (MemberLeft(room_id=3, user=ALICE), "leave_room"),
        (UserTyping(room_id=3, user=ALICE), "typing"),
    ):
        assert json.loads(event_frame(event)) == {"type": kind, "room_id": 3, "user": USER}
        envelope = read_payload(bus_payload(event))
        assert (envelope.type, envelope.user_id, envelope.text) == (kind, 1, event_frame(event))
    assert channels_of(UserTyping(room_id=3, user=ALICE)) == [room_channel(3)]
    assert channels_of(MemberJoined(room_id=3, user=ALICE)) == ["chatd:room:3", "chatd:user:1"]


def test_presence_frames_go_to_the_room():
    event = PresenceChanged(room_id=3, user=ALICE, online=False)
    frame = {"type": "presence", "room_id": 3, "user": USER, "online": False}
    assert json.loads(event_frame(event)) == frame
    envelope = read_payload(bus_payload(event))
    assert (envelope.type, envelope.room_id, envelope.seq, envelope.user_id) == (
        "presence",
        3,
        None,
        1,
    )
    assert envelope.text == event_frame(event)
    assert channels_of(event) == [room_channel(3)]


def test_a_revocation_goes_to_the_user_with_its_reason():
    event = SessionsRevoked(user_id=7, reason="logged out")
    envelope = read_payload(bus_payload(event))
    assert (envelope.type, envelope.user_id, envelope.text) == ("sessions_revoked", 7, "logged out")
    assert channels_of(event) == [user_channel(7)]


def test_the_ack_carries_the_live_frames_encoding_of_the_message():
    posted = message(3, 7)
    live = event_frame(MessagePosted(posted))
    ack = message_ack("r1", posted)
    assert json.loads(ack) == {"type": "ack", "ref": "r1", "message": json.loads(live)["message"]}
    # One encoding serves both: the same text, not an equal one made again.
    assert message_text(posted) is message_text(posted)
    assert live.endswith(f"{message_text(posted)}}}")


def test_edit_and_delete_frames_are_stream_positions():
    edit = MessageEdited(room_id=3, seq=9, target_seq=7, body="fixed", edited_at=EPOCH)
    delete = MessageDeleted(room_id=3, seq=10, target_seq=7)
    assert json.loads(event_frame(edit)) == {
        "type": "message_edited",
        "room_id": 3,
        "seq": 9,
        "target_seq": 7,
        "body": "fixed",
        "edited_at": EPOCH.isoformat(),
    }
    assert json.loads(event_frame(delete)) == {
        "type": "message_deleted",
        "room_id": 3,
        "seq": 10,
        "target_seq": 7,
    }
    for event, kind, seq in ((edit, "message_edited", 9), (delete, "message_deleted", 10)):
        envelope = read_payload(bus_payload(event))
        assert (envelope.type, envelope.room_id, envelope.seq) == (kind, 3, seq)
        assert envelope.text == event_frame(event) == position_frame(event)
        assert channels_of(event) == [room_channel(3)]
    assert position_frame(message(3, 7)) == event_frame(MessagePosted(message(3, 7)))


def test_read_marker_frames_go_to_the_users_channel_only():
    event = ReadMarkerMoved(user_id=1, room_id=3, seq=12)
    assert channels_of(event) == [user_channel(1)]
    envelope = read_payload(bus_payload(event))
    assert (envelope.type, envelope.room_id, envelope.seq, envelope.user_id) == ("read", 3, None, 1)
    assert json.loads(envelope.text) == {"type": "read", "room_id": 3, "seq": 12}

"""Each SUBSCRIBE is answered by its own confirmation, in order (confirmations.py)."""

from chatd.infrastructure.confirmations import Confirmations


async def test_a_channel_asked_for_again_waits_for_its_own_confirmation():
    confirmations = Confirmations()
    first = confirmations.expect("room:1")  # SUBSCRIBE
    # UNSUBSCRIBE, then SUBSCRIBE again before the first was confirmed
    second = confirmations.expect("room:1")
    confirmations.confirmed("room:1")  # the first SUBSCRIBE's confirmation
    assert first.done() and not second.done()
    confirmations.confirmed("room:1")
    assert second.done()


async def test_confirmations_of_other_channels_answer_nobody_else():
    confirmations = Confirmations()
    waiting = confirmations.expect("room:1")
    confirmations.confirmed("room:2")
    confirmations.confirmed("room:2")
    assert not waiting.done()


async def test_a_new_connection_answers_every_waiter_of_a_channel_with_one_confirmation():
    confirmations = Confirmations()
    one, two = confirmations.expect("room:1"), confirmations.expect("room:1")
    gone = confirmations.expect("room:3")  # unsubscribed since: not resubscribed
    confirmations.resubscribing(["room:1", "room:2"], drop_others=True)
    later = confirmations.expect("room:1")  # asked after the resubscription was sent
    confirmations.confirmed("room:2")
    confirmations.confirmed("room:1")
    assert one.done() and two.done() and not later.done()
    confirmations.confirmed("room:3")
    assert not gone.done()
    confirmations.confirmed("room:1")
    assert later.done()


async def test_a_shard_resubscribing_leaves_other_shards_waiters_alone():
    confirmations = Confirmations()
    elsewhere = confirmations.expect("room:9")
    confirmations.resubscribing(["room:1"])
    confirmations.confirmed("room:9")
    assert elsewhere.done()

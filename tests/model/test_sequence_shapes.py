"""Shape inference for sequence layers and named groups: the one-line errors a person meets."""

from __future__ import annotations

import pytest

from workbench.model.shapes import analyse, layer_names
from workbench.schema.config import LayerSpec

from .stacks import layer, recurrent_stack, text_cnn

VOCAB = 20


def error_of(layers: list[LayerSpec], input_shape: tuple[int, ...], vocab_size: int = 0) -> tuple[str, str]:
    analysis = analyse(layers, input_shape, 4, vocab_size=vocab_size)
    assert analysis.error is not None
    return analysis.error.field, str(analysis.error)


def test_a_text_model_reads_token_ids_through_an_embedding_sized_by_the_vocabulary() -> None:
    analysis = analyse(recurrent_stack(), (9,), 4, vocab_size=VOCAB)
    assert analysis.ok, analysis.error
    embed, lstm, gru = analysis.layers[:3]
    assert embed.params["num_embeddings"] == VOCAB and embed.output_shape == (9, 6)
    assert lstm.output_shape == (9, 5) and gru.params["input_size"] == 5
    assert gru.output_shape == (14,)  # last step, both directions


def test_linear_reads_each_step_of_a_sequence() -> None:
    analysis = analyse([layer("Linear", out_features=3), layer("Flatten"), layer("Linear")], (7, 8), 4)
    assert analysis.layers[0].output_shape == (7, 3) and analysis.layers[0].num_params == 8 * 3 + 3


@pytest.mark.parametrize(
    ("layers", "input_shape", "expected"),
    [
        (
            [layer("SelfAttention", embed_dim=30, num_heads=4)],
            (5, 30),
            r"model.layers.0 (attn1, SelfAttention): embed_dim=30 is not divisible by num_heads=4",
        ),
        (
            [layer("LayerNorm", normalized_shape=16)],
            (5, 8),
            r"model.layers.0 (ln1, LayerNorm): normalized_shape=16 does not match the input's last dimension, 8 of (5, 8)",
        ),
        (
            [layer("GRU")],
            (1, 8, 8),
            r"model.layers.0 (gru1, GRU): expects a sequence (steps, features) but gets (1, 8, 8), an image",
        ),
        (
            [layer("Conv1d")],
            (10,),
            r"model.layers.0 (conv1, Conv1d): expects a sequence (channels, length) but gets (10,), flat features",
        ),
        (
            [layer("GroupNorm", num_groups=4)],
            (6, 5),
            r"model.layers.0 (gn1, GroupNorm): num_groups=4 does not divide the 6 channels; use a divisor such as 1, 2, 3, 6",
        ),
        (
            [layer("LSTM", dropout=0.2)],
            (5, 3),
            r"model.layers.0 (lstm1, LSTM): dropout=0.2 acts between stacked layers and num_layers=1 has none",
        ),
        (
            [layer("Embedding")],
            (5, 3),
            r"model.layers.0 (embed1, Embedding): expects token ids from a text or sequence dataset but gets numbers (5, 3)",
        ),
    ],
    ids=["attention-heads", "layernorm-size", "gru-on-image", "conv1d-on-features", "groupnorm", "dropout", "embedding"],
)
def test_bad_sequence_layers_are_one_line_naming_the_layer_and_the_field(
    layers: list[LayerSpec], input_shape: tuple[int, ...], expected: str
) -> None:
    field, message = error_of([*layers, layer("Flatten"), layer("Linear")], input_shape)
    assert field == "model.layers.0"
    assert message.startswith(expected) and "\n" not in message


def test_token_ids_need_an_embedding_first() -> None:
    field, message = error_of([layer("Linear")], (9,), vocab_size=VOCAB)
    assert field == "model.layers.0"
    assert message.startswith("model.layers.0 (fc1, Linear): gets token ids (9,)")
    assert message.endswith("start the model with an Embedding")


def test_an_embedding_smaller_than_the_vocabulary_is_an_error() -> None:
    _, message = error_of([layer("Embedding", num_embeddings=10), layer("Flatten"), layer("Linear")], (9,), VOCAB)
    assert "num_embeddings=10 is fewer than the dataset's 20 tokens (ids 0..19)" in message


# ----------------------------------------------------------------------------- named groups


def test_groups_are_recorded_per_layer_and_auto_names_continue_across_groups() -> None:
    analysis = analyse(text_cnn(), (9,), 4, vocab_size=VOCAB)
    assert analysis.ok, analysis.error
    assert [(info.group, info.name) for info in analysis.layers][1:4] == [
        ("", "transpose1"),
        ("features", "conv1"),
        ("features", "gn1"),
    ]


def test_auto_names_step_around_group_names() -> None:
    layers = [layer("Flatten", group="fc1"), layer("Linear")]
    assert layer_names(layers) == ["flatten1", "fc2"]


def test_a_group_split_by_another_layer_is_an_error_naming_both() -> None:
    layers = [layer("Flatten", group="dense"), layer("ReLU"), layer("Linear", group="dense")]
    field, message = error_of(layers, (4,))
    assert field == "model.layers.2.group"
    assert message == (
        "model.layers.2.group (fc1, Linear): the group 'dense' is split by model.layers.1; a group's layers must be consecutive"
    )


def test_a_group_named_like_a_layer_is_an_error() -> None:
    layers = [layer("Flatten", name="dense"), layer("Linear", group="dense")]
    field, message = error_of(layers, (4,))
    assert field == "model.layers.1.group"
    assert "the group 'dense' has the name of layer model.layers.0" in message


def test_a_group_name_that_is_not_an_identifier_is_an_error() -> None:
    field, message = error_of([layer("Flatten", group="my block"), layer("Linear")], (4,))
    assert field == "model.layers.0.group"
    assert "'my block' is not a valid group name" in message

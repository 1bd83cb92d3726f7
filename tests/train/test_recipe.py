"""Recipes load, validate, and take type-checked dotted overrides."""

from pathlib import Path

import pytest

from ftk.errors import ConfigError
from ftk.train.recipe import apply_overrides, check_recipe, list_recipes, load_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*.py")), ids=lambda p: p.name)
def test_every_recipe_is_valid_and_documents_its_command(path):
    cfg = load_recipe(path)
    check_recipe(cfg)
    assert f"ftk run recipes/{path.name}" in cfg["_doc"]
    assert cfg["lora"]["target_modules"] and cfg["train"]["learning_rate"] > 0


def test_phi3_targets_its_fused_projections():
    cfg = load_recipe(RECIPES / "phi3-qlora.py")
    assert {"qkv_proj", "gate_up_proj"} <= set(cfg["lora"]["target_modules"])


def test_overrides_are_typed():
    cfg = apply_overrides(load_recipe(RECIPES / "llama3-qlora.py"),
                          ["train.learning_rate=1e-4", "lora.r=8", "max_length=512", "load_in_4bit=false",
                           "lora.target_modules=q_proj,v_proj", "data.path=x.jsonl"])
    assert cfg["train"]["learning_rate"] == 1e-4 and cfg["lora"]["r"] == 8 and cfg["max_length"] == 512
    assert cfg["load_in_4bit"] is False and cfg["lora"]["target_modules"] == ["q_proj", "v_proj"]
    assert cfg["data"]["path"] == "x.jsonl"


@pytest.mark.parametrize("override, message", [
    ("train.learnig_rate=1", "unknown key; valid keys here: train.gradient_accumulation_steps"),
    ("lora.r=eight", "expected an integer"),
    ("load_in_4bit=maybe", "expected true or false"),
    ("train=3", "a section"),
    ("nope.x=1", "'nope' is not a section"),
    ("max_length", "expected key=value"),
])
def test_bad_overrides_say_what_is_valid(override, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        apply_overrides(load_recipe(RECIPES / "llama3-qlora.py"), [override])


def test_a_recipe_that_raises_or_lacks_fields_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("family = 'llama3'\nraise RuntimeError('boom')\n")
    with pytest.raises(ConfigError, match="raised RuntimeError: boom"):
        load_recipe(bad)
    thin = tmp_path / "thin.py"
    thin.write_text("family = 'llama3'\n")
    with pytest.raises(ConfigError, match="missing 'model'"):
        check_recipe(load_recipe(thin))


def test_list_recipes_reads_docstrings():
    names = dict(list_recipes(RECIPES))
    assert set(names) == {p.name for p in RECIPES.glob("*.py")}
    assert "CPU" in names["smollm2-lora.py"]

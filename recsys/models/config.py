"""The hyper-parameter dataclasses every model's config grows from: `ModelConfig` (the seed,
validation from the declarations, dict round trips) and `GradientConfig` (epochs, learning
rate, batch size, patience for the models trained by gradient descent)."""
from __future__ import annotations

from dataclasses import dataclass, fields

from recsys.errors import ConfigError
from recsys.models.params import LISTS, check, declared, hyper, parse_value


@dataclass(frozen=True)
class ModelConfig:
    """Base of every model's frozen hyper-parameter dataclass. Each field is declared with
    `hyper(...)`: its kind and range live beside its default (see `recsys.models.params`)."""

    seed: int = hyper(42, "int", "Seed", "random seed of initialisation, sampling and splits inside fit", low=0)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise `ConfigError` for values out of their declared range. Subclasses add the rules
        that tie several settings together."""
        check(self)

    def as_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in fields(self)}

    def identity(self) -> dict:
        """What makes a model trained with this config the model it is (its artifact's key): its
        settings, and for a model made of others (the blend) theirs as well."""
        return self.as_dict()

    @classmethod
    def from_dict(cls, values: dict) -> "ModelConfig":
        """Build from a plain dict (e.g. meta.json or CLI), refusing unknown keys."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"unknown hyper-parameter(s) {', '.join(unknown)} for {cls.__name__}; "
                              f"known: {', '.join(known)}")
        params = declared(cls)
        converted = {k: tuple(v) if isinstance(v, list) else
                     parse_value(params[k], v, k) if isinstance(v, str) and k in params and params[k].kind in LISTS else v
                     for k, v in values.items()}
        return cls(**converted)


@dataclass(frozen=True)
class GradientConfig(ModelConfig):
    """The settings every model trained by gradient descent in epochs shares."""

    epochs: int = hyper(30, "int", "Epochs (at most; early stopping may end sooner)",
                        "passes over the training data, at most", low=1, high=10_000, page=True, page_range=(1, 200))
    learning_rate: float = hyper(0.005, "float", "Learning rate", "Adam's step size", low=0.0, high=1.0,
                                 open_low=True, search=(1e-4, 3e-2), log=True, page=True,
                                 steps=(0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05))
    batch_size: int = hyper(1024, "int", "Batch size", "ratings (or users) per gradient step", low=1, high=1 << 20,
                            page=True, steps=tuple(2 ** n for n in range(8, 18)))
    patience: int = hyper(3, "int", "Patience", "epochs without a better validation loss before stopping",
                          low=0, high=10_000)

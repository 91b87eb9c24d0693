"""OmegaConf resolvers the configs use (registered on import, idempotently).

- `${lra_spec:TASK,FIELD}`: a field of macformer.data.task_spec(TASK): one source of truth
  for length, vocabulary, classes and pairing.
- `${run_label:${attention},${protocol.name}}`: the run's name,
  `<attention>[-<kernel>][-noppsbn][-causal|-noncausal][-D<features>][-<protocol>]`.
- `${run_suffix:${run.tag}}`: "" or "-<tag>".
- `${first_set:A,B}`: A unless it is null, else B.
"""

from __future__ import annotations

from omegaconf import OmegaConf

from macformer.attention import KERNEL_ATTENTIONS

DEFAULT_NUM_FEATURES = 128


def lra_spec(task: str, field: str):
    from macformer.data.tasks import task_spec

    return getattr(task_spec(task), field)


def run_label(attention, protocol: str = "lra") -> str:
    """The kernel attentions always name their form (causal or noncausal), since the
    Macformer rows run causally and the non-causal form is an ablation; the others
    say `causal` only when they run that way."""
    name = attention["name"]
    options = attention.get("options") or {}
    parts = [name]
    if name in KERNEL_ATTENTIONS:
        parts.append(str(options.get("kernel", "exp")))
        if not options.get("ppsbn", True):
            parts.append("noppsbn")
        parts.append("causal" if options.get("causal", False) else "noncausal")
    elif options.get("causal", False):
        parts.append("causal")
    features = options.get("num_features")
    if features is not None and features != DEFAULT_NUM_FEATURES:
        parts.append(f"D{features}")
    if protocol not in (None, "lra"):
        parts.append(str(protocol))
    return "-".join(parts)


def run_suffix(tag) -> str:
    return "" if tag in (None, "") else f"-{tag}"


def first_set(first, second):
    return second if first is None else first


def register() -> None:
    for name, fn in (("lra_spec", lra_spec), ("run_label", run_label), ("run_suffix", run_suffix),
                     ("first_set", first_set)):
        OmegaConf.register_new_resolver(name, fn, replace=True)


register()

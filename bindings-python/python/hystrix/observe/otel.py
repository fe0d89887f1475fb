"""OpenTelemetry for hystrix's metrics (issue #12 §3): observable
instruments on your meter with the names, descriptions and units (UCUM:
``s``) of the core's metric families, observed from the core's render at
each collection::

    from opentelemetry import metrics
    from hystrix.observe.otel import otel_instruments

    otel_instruments(metrics.get_meter("my-app"))

Counters become observable counters (cumulative values), gauges observable
gauges. OpenTelemetry has no observable histogram, so a histogram family is
exported as Prometheus exports it: the observable counters ``<name>_bucket``
(cumulative count per bound, attribute ``le``, ``+Inf`` last),
``<name>_sum`` (in the family's unit) and ``<name>_count``.

Needs ``opentelemetry-api`` (``pip install 'hystrix[otel]'``); the SDK and
exporters are yours to choose.
"""
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

try:
    from opentelemetry import metrics as _metrics
    from opentelemetry.metrics import CallbackOptions, Meter, Observation
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("hystrix.observe.otel needs opentelemetry-api: pip install 'hystrix[otel]'") from e

from ._render import metric_families

__all__ = ["OtelInstruments", "otel_instruments"]

#: How long one render may serve instruments that have not read it yet (s).
_SHARED_FOR = 1.0

_Callback = Callable[[CallbackOptions], Iterable[Observation]]


class _Renders:
    """One render shared by the instruments of a collection: each instrument
    reads it once; one that asks again (the next collection) gets a fresh one."""

    def __init__(self, commands: Optional[List[Any]]) -> None:
        self._commands = commands
        self._lock = threading.Lock()
        self._families: Dict[str, Dict[str, Any]] = {}
        self._served: Set[str] = set()
        self._at = float("-inf")

    def family(self, name: str, reader: str) -> Optional[Dict[str, Any]]:
        """The family ``name`` for the instrument ``reader``."""
        with self._lock:
            now = time.monotonic()
            if reader in self._served or now - self._at > _SHARED_FOR:
                self._families = {f["name"]: f for f in metric_families(self._commands)}
                self._served = set()
                self._at = now
            self._served.add(reader)
            return self._families.get(name)


class OtelInstruments:
    """The observable instruments :func:`otel_instruments` made."""

    def __init__(self, instruments: List[Any], closed: threading.Event) -> None:
        #: The instruments (a histogram family has three: ``_bucket``, ``_sum``, ``_count``).
        self.instruments = instruments
        self._closed = closed

    def close(self) -> None:
        """Stops observing (the API cannot remove a callback: they observe nothing from now on)."""
        self._closed.set()


def _meter_of(meter: Any) -> Meter:
    """``meter`` itself, a MeterProvider's meter, or the global one."""
    if meter is None:
        return _metrics.get_meter("hystrix")
    if callable(getattr(meter, "create_observable_counter", None)):
        return meter  # type: ignore[no-any-return]
    if callable(getattr(meter, "get_meter", None)):
        return meter.get_meter("hystrix")  # type: ignore[no-any-return]
    raise TypeError(f"meter must be an OpenTelemetry Meter or MeterProvider (or None), got {type(meter).__name__}")


def otel_instruments(meter: Any = None, commands: Optional[Iterable[Any]] = None) -> OtelInstruments:
    """Registers observable instruments for every metric family of the
    registry's named commands (or of ``commands``: commands, circuits or
    registered names) on ``meter`` (a Meter, a MeterProvider, or ``None``:
    the global meter provider's meter ``hystrix``)."""
    m = _meter_of(meter)
    if isinstance(commands, (str, bytes)):
        raise TypeError("commands must be an iterable of commands, circuits or names, not a single string")
    chosen = list(commands) if commands is not None else None
    families = metric_families(chosen)  # bad commands fail here, not at a collection
    renders = _Renders(chosen)
    closed = threading.Event()

    def callback(family: str, reader: str, observe: Callable[[Dict[str, Any]], List[Observation]]) -> _Callback:
        def cb(options: CallbackOptions) -> Iterable[Observation]:
            if closed.is_set():
                return []
            f = renders.family(family, reader)
            return [] if f is None else observe(f)

        return cb

    instruments: List[Any] = []
    for f in families:
        name, help_, unit = f["name"], f["help"], f["otel_unit"]
        labels = f["label_names"]
        if f["type"] in ("counter", "gauge"):

            def scalar(fam: Dict[str, Any], labels: Any = labels) -> List[Observation]:
                return [Observation(v, dict(zip(labels, values))) for values, v in fam["samples"]]

            make = m.create_observable_counter if f["type"] == "counter" else m.create_observable_gauge
            instruments.append(make(name, callbacks=[callback(name, name, scalar)], unit=unit, description=help_))
        elif f["type"] == "histogram":

            def buckets(fam: Dict[str, Any], labels: Any = labels) -> List[Observation]:
                out = []
                for values, counts, count, _ in fam["samples"]:
                    attrs = dict(zip(labels, values))
                    out += [Observation(n, {**attrs, "le": le}) for le, n in zip(fam["le"], counts)]
                    out.append(Observation(count, {**attrs, "le": "+Inf"}))
                return out

            def sums(fam: Dict[str, Any], labels: Any = labels) -> List[Observation]:
                return [Observation(s[3], dict(zip(labels, s[0]))) for s in fam["samples"]]

            def counts(fam: Dict[str, Any], labels: Any = labels) -> List[Observation]:
                return [Observation(s[2], dict(zip(labels, s[0]))) for s in fam["samples"]]

            for suffix, observe, u, what in (("_bucket", buckets, "", "cumulative count per upper bound le"),
                                             ("_sum", sums, unit, "sum"), ("_count", counts, "", "count")):
                instruments.append(m.create_observable_counter(
                    name + suffix, callbacks=[callback(name, name + suffix, observe)], unit=u,
                    description=f"{help_} ({what})"))
        else:  # pragma: no cover - the core has no other type
            raise ValueError(f"unknown metric type {f['type']!r} of {name}")
    return OtelInstruments(instruments, closed)

"""``mmrag mcp``: the index as Model Context Protocol tools (official ``mcp`` SDK).

The index and its models are loaded once when the server starts; every tool
call then costs one search. Expected failures (a bad argument, an unknown
chunk, a file outside ``--allow-ingest``) come back as tool errors carrying
the CLI's message, so the model can correct its call and the server lives on.
"""


from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mmrag.errors import MmragError
from mmrag.service.citations import cite, numbered
from mmrag.service.core import DEFAULT_IMAGE_SIDE, MAX_IMAGE_SIDE, MAX_K, MIN_IMAGE_SIDE, Service, out_of_range

try:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.server.mcpserver.utilities.types import Image
    from mcp_types import CallToolResult, TextContent, ToolAnnotations
except ImportError as exc:  # pragma: no cover - exercised by installs without the extra
    from mmrag.errors import MissingDependencyError

    raise MissingDependencyError("mcp", "agents", "mmrag mcp") from exc

INSTRUCTIONS = """\
Search a multimodal document index (PDF pages, slides, images, transcripts).
Start with `search`; cite hits by their [n] file and page/slide/moment. Use `fetch`
with a hit's chunk_id for the surrounding text, `page_image` to look at the page,
slide or frame, and `sources` to see which files are indexed."""


class HitModel(BaseModel):
    """One hit of the ``mmrag search --json`` contract (keys are added, never renamed)."""

    model_config = ConfigDict(extra="allow")
    chunk_id: str
    doc_id: str
    source: str
    modality: str
    page: int | None
    slide: int | None
    start: float | None
    end: float | None
    score: float
    scores: dict[str, float]
    text: str
    context: str
    image: dict[str, Any] | None
    metadata: dict[str, Any]


class SearchOutput(BaseModel):
    hits: list[HitModel]


class FetchOutput(BaseModel):
    chunk: HitModel
    neighbours: list[HitModel]


class ChildSourceModel(BaseModel):
    source: str
    chunks: int


class SourceModel(BaseModel):
    source: str
    doc_id: str
    chunks: int
    children: list[ChildSourceModel] = Field(default_factory=list)


class SourcesOutput(BaseModel):
    sources: list[SourceModel]


# The bounds are published in each tool's schema but checked by the Service, so that a
# client that ignores the schema gets the CLI's sentence rather than pydantic's report.
BOUNDS = {"k": (1, MAX_K), "max_side": (MIN_IMAGE_SIDE, MAX_IMAGE_SIDE)}


def bounded(name: str) -> dict[str, int]:
    low, high = BOUNDS[name]
    return {"minimum": low, "maximum": high}


def one_line(error: ValidationError) -> str:
    """Arguments of the wrong type as sentences on one line: a bound's own sentence for
    ``k`` and ``max_side``, else ``field: pydantic's message, got value``."""
    parts = []
    for e in error.errors(include_url=False):
        field = ".".join(str(p) for p in e["loc"]) or "arguments"
        if field in BOUNDS:
            parts.append(str(out_of_range(field, e.get("input"), *BOUNDS[field])))
        else:
            parts.append(f"{field}: {e['msg'].lower()}, got {e.get('input')!r}")
    return "; ".join(dict.fromkeys(parts))


class _Server(MCPServer):
    """``MCPServer`` whose argument errors read as one line, as the CLI's do
    (the SDK puts pydantic's multi-line report into the tool error)."""

    async def call_tool(self, name, arguments, context=None):
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(f"Error executing tool {name}: {one_line(exc.__cause__)}") from exc.__cause__
            raise


def build_server(service: Service, name: str = "mmrag") -> MCPServer:
    """An MCP server whose tools call ``service``; ``ingest`` exists only when it may write."""
    server = _Server(name, instructions=INSTRUCTIONS, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def guarded(call, *args):
        try:
            return call(*args)
        except (MmragError, ValueError, OSError) as exc:
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=read_only)
    def search(
        query: Annotated[str, Field(description="What to look for, in words (up to 2000 characters)")] = "",
        k: Annotated[int, Field(json_schema_extra=bounded("k"), description="How many hits")] = 8,
        mode: Annotated[str, Field(description="hybrid (default), dense (meaning), bm25 (exact words) or late")] = "hybrid",
        filters: Annotated[dict[str, Any], Field(
            description='Restrict hits: {"source": "report.pdf"}, {"page": 3}, {"modality": "image"}, '
            '{"slide": [2, 3]} (a list means any of), {"page": {"$gte": 2}}, {"$or": [{...}, {...}]}; '
            'keys: source, modality, page, slide, doc_id or a metadata key'
        )] = {},  # noqa: B006 - pydantic copies defaults; the schema shows {}
        image_path: Annotated[str | None, Field(description="A picture on this machine to search by (needs an image space)")] = None,
    ) -> Annotated[CallToolResult, SearchOutput]:
        """Search the indexed documents and return the best passages, each numbered
        with its file and page, slide or moment (mm:ss–mm:ss) and a chunk_id.

        Cite passages by their number and location. Call fetch(chunk_id) for the text
        around a hit, page_image(chunk_id) to see the page or slide it comes from.
        """
        hits = guarded(service.search, query, k, mode, filters, image_path)
        return CallToolResult(content=[TextContent(type="text", text=numbered(hits))], structured_content={"hits": hits})

    @server.tool(annotations=read_only)
    def fetch(
        chunk_id: Annotated[str, Field(description="A chunk_id from a search hit")],
    ) -> Annotated[CallToolResult, FetchOutput]:
        """Read one chunk in full with its context header (document > section > page)
        and its neighbours: the other chunks of the same page or slide, or the
        transcript windows just before and after it."""
        found = guarded(service.fetch, chunk_id)
        lines = [f"{cite(found['chunk'])}: {found['chunk']['context']}".rstrip(": "), found["chunk"]["text"]]
        for n in found["neighbours"]:
            lines += ["", f"-- nearby, {cite(n)} (chunk_id {n['chunk_id']})", n["text"]]
        return CallToolResult(content=[TextContent(type="text", text="\n".join(lines))], structured_content=found)

    @server.tool(annotations=read_only)
    def page_image(
        chunk_id: Annotated[str, Field(description="A chunk_id from a search hit")],
        max_side: Annotated[int, Field(json_schema_extra=bounded("max_side"), description="Longest side in pixels")] = (
            DEFAULT_IMAGE_SIDE
        ),
    ) -> Image:
        """Look at the rendered PDF page, the slide's picture, the image or the video
        frame a chunk comes from (JPEG, downscaled). Use it to check a chart, table
        or photo that the text of a hit only describes."""
        return Image(data=guarded(service.image, chunk_id, max_side), format="jpeg")

    @server.tool(annotations=read_only)
    def sources() -> SourcesOutput:
        """List the indexed files with their chunk counts (what search can find)."""
        return SourcesOutput(sources=guarded(service.sources))

    if not service.read_only:

        @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True))
        def ingest(
            paths: Annotated[list[str], Field(min_length=1, description=f"Files or folders under {service.ingest_root}")],
        ) -> dict[str, Any]:
            """Add or update files in the index (unchanged files are skipped). Only
            paths under the folder the server was started with are accepted."""
            return guarded(service.ingest, paths)

    return server

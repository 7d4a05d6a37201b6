"""`prodsearch query`: search an index from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from indexer.cli import add_model_options

    query = sub.add_parser("query", help="search an index from the command line")
    query.add_argument("--index", required=True, type=Path)
    query.add_argument("text", nargs="?", default=None, help="text query")
    query.add_argument("--image", type=Path, default=None, help="a photo to search with")
    query.add_argument("--product-id", default=None, help="more like this product")
    query.add_argument("-k", type=int, default=10)
    query.add_argument("--offset", type=int, default=0)
    query.add_argument("--filters", default=None, help='JSON, e.g. {"attributes": {"colour": "Red"}, "price_max": 40}')
    query.add_argument("--fusion", choices=["rrf", "weighted"], default=None)
    query.add_argument("--config", type=Path, default=None, help="fusion settings file from `prodsearch eval tune`")
    query.add_argument("--json", action="store_true", help="print the whole response as JSON")
    query.add_argument("--synonyms", type=Path, default=None,
                       help="your synonyms file (Solr format), added to the shipped ones")
    add_model_options(query, default=None)
    query.set_defaults(func=run_query)


def run_query(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from indexer.errors import InvalidQueryError
    from indexer.images import ImageFailure, read_image
    from indexer.json_input import parse_json
    from search.config import load_search_config, validation_problems
    from search.searcher import Searcher
    from search.types import SearchRequest

    try:
        filters = parse_json(args.filters) if args.filters else None
    except ValueError as exc:  # deep nesting and over-long integers included
        raise InvalidQueryError(f"invalid query: --filters: {exc}") from None
    try:
        request = SearchRequest(text=args.text, product_id=args.product_id, k=args.k, offset=args.offset,
                                filters=filters, fusion=args.fusion)
    except ValidationError as exc:
        raise InvalidQueryError(f"invalid query: {validation_problems(exc, 'query')}") from None
    image = None
    if args.image is not None:
        image = read_image(str(args.image))
        if isinstance(image, ImageFailure):
            raise InvalidQueryError(f"cannot use {args.image} as a query photo: {image.reason}")
    config = load_search_config(args.config)
    synonyms = None
    if args.synonyms is not None:  # read before the index and the models: a bad file fails at once
        from search.synonyms import load_synonyms

        synonyms = load_synonyms(args.synonyms)
    searcher = Searcher.open(args.index, config=config, text_model=args.text_model,
                             clip_model=args.clip_model, clip_pretrained=args.clip_pretrained, device=args.device)
    if synonyms is not None:
        searcher.synonyms = synonyms
    response = searcher.search(request, image=image)
    if args.json:
        print(response.model_dump_json(indent=2))
        return 0
    for i, hit in enumerate(response.hits, start=request.offset + 1):
        p = hit.product
        price = f"{p.price:.2f} {p.currency}".strip() if p.price is not None else "-"
        ranks = " ".join(f"{name}#{s.rank}" for name, s in hit.signals.items())
        print(f"{i:3d}. {p.id:<10} {hit.score:.4f}  {p.title[:60]:<60} {price:>12}  [{ranks}]")
    if response.understood:
        print("understood: " + ", ".join(f"{name}={value}" for name, value in response.understood.items()))
    if response.price_from_text is not None:
        bounds = response.price_from_text
        print(f"price from the query ({bounds.words!r}): {'' if bounds.min is None else f'{bounds.min:g} '}"
              f"to {'any' if bounds.max is None else f'{bounds.max:g}'}; searched {response.searched!r}")
    if response.excluded_from_text:
        print("ruled out by the query: " + ", ".join(f"{name}={'|'.join(values)}"
                                                      for name, values in response.excluded_from_text.items()))
    print(f"{response.total} matching ({response.pageable} ranked); {response.timings_ms['total']:.1f} ms")
    return 0

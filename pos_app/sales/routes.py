from __future__ import annotations

from aiokafka.errors import KafkaError
from fastapi import APIRouter, HTTPException, status

from pos_app.deps import ConnectionDep, PublisherDep, SettingsDep
from pos_app.events.schemas import SaleCompleted
from pos_app.sales.schemas import SaleIn
from pos_app.sales.service import SaleRejected, record_sale

router = APIRouter(prefix="/api/v1", tags=["sales"])


@router.post("/sales", status_code=status.HTTP_201_CREATED, response_model=SaleCompleted)
async def create_sale(
    sale: SaleIn, conn: ConnectionDep, publisher: PublisherDep, settings: SettingsDep
) -> SaleCompleted:
    """Ring up a sale: lines of SKU and quantity, priced from the catalog."""
    try:
        return await record_sale(conn, publisher, sale, settings=settings)
    except SaleRejected as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    except KafkaError as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"the sale was not recorded: Kafka is unavailable ({error.__class__.__name__})",
        ) from None

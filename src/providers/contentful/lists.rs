//! Contentful's collections read whole: `limit`/`skip` pages, each kept as it arrives,
//! proven complete against the collection's own `total`.

use super::*;

impl Contentful {
    /// Every item of a collection, each page turned by `keep` into what the read keeps as
    /// soon as it arrives (its wire items and included users are dropped there), proven
    /// complete: the first page's `total` and length give the other pages' `skip`s,
    /// which are fetched at once (bounded by `--parallelism` and the governor); a page
    /// shorter or longer than the first one leaves the rest to be read in order from where
    /// it ended. The whole must hold exactly `total` distinct items, and a `total` that
    /// moves between pages makes the list be read once more, then fail.
    pub(super) async fn list<T, U, K>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        keep: K,
    ) -> Result<Vec<U>, ProviderError>
    where
        T: DeserializeOwned + Identified + Send + 'static,
        U: Send + 'static,
        K: Fn(Collection<T>) -> Vec<U> + Clone + Send + 'static,
    {
        paging::read_whole(&self.client, path, || {
            self.list_once(path, query, keep.clone())
        })
        .await
    }

    pub(super) async fn list_once<T, U, K>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        keep: K,
    ) -> Result<Result<Vec<U>, Incomplete>, ProviderError>
    where
        T: DeserializeOwned + Identified + Send + 'static,
        U: Send + 'static,
        K: Fn(Collection<T>) -> Vec<U> + Clone + Send + 'static,
    {
        let first = self.page(path, query, 0, keep.clone()).await?;
        let total = first.total;
        let served = first.page.ids.len();
        let mut tally = paging::Tally::default();
        let mut items = first.page.items;
        tally.add(first.page.ids);
        let moved = |t: usize| {
            Ok(Err(Incomplete::Moved(format!(
                "total moved from {total} to {t} between pages"
            ))))
        };
        if served > 0 && served < total {
            if total.div_ceil(served) > paging::MAX_PAGES {
                return Ok(Err(Incomplete::Broken(format!(
                    "total {total} at {served} per page is more than {} pages",
                    paging::MAX_PAGES
                ))));
            }
            paging::reserve(&mut items, total);
            tally.expect(total);
            let mut tasks = tokio::task::JoinSet::new();
            for skip in (served..total).step_by(served) {
                let url = self.page_url(path, query, skip)?;
                let (this, path, keep) = (self.sibling(), path.to_string(), keep.clone());
                tasks.spawn(async move { (skip, this.fetch_page(&path, url, keep).await) });
            }
            let mut rest = Vec::with_capacity(tasks.len());
            while let Some(joined) = tasks.join_next().await {
                let (skip, page) =
                    joined.map_err(|e| self.client.protocol(path, format!("task failed: {e}")))?;
                rest.push((skip, page?));
            }
            rest.sort_by_key(|(skip, _)| *skip);
            for (skip, page) in rest {
                if page.total != total {
                    return moved(page.total);
                }
                if skip != tally.served() {
                    break;
                }
                let got = page.page.ids.len();
                tally.add(page.page.ids);
                items.extend(page.page.items);
                if got != served.min(total - skip) {
                    break;
                }
            }
        }
        // What the concurrent pages did not cover exactly, in order from where they ended.
        let mut pages = 1;
        while served > 0 && tally.served() < total {
            pages += 1;
            if pages > paging::MAX_PAGES {
                return Ok(Err(Incomplete::Broken(format!(
                    "the list did not end within {} pages",
                    paging::MAX_PAGES
                ))));
            }
            let page = self.page(path, query, tally.served(), keep.clone()).await?;
            if page.total != total {
                return moved(page.total);
            }
            let got = page.page.ids.len();
            tally.add(page.page.ids);
            items.extend(page.page.items);
            if got == 0 {
                break;
            }
        }
        Ok(tally.check_count(total).map(|()| items))
    }

    /// One page of a collection, from item `skip`.
    pub(super) async fn page<T, U>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        skip: usize,
        keep: impl Fn(Collection<T>) -> Vec<U>,
    ) -> Result<Kept<U>, ProviderError>
    where
        T: DeserializeOwned + Identified,
    {
        self.fetch_page(path, self.page_url(path, query, skip)?, keep)
            .await
    }

    /// The URL of a collection's page from item `skip`, with the list's own query.
    pub(super) fn page_url(
        &self,
        path: &str,
        query: &[(&str, &str)],
        skip: usize,
    ) -> Result<url::Url, ProviderError> {
        let mut url = self.client.url(path)?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("limit", &LIMIT.to_string())
                .append_pair("skip", &skip.to_string());
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// One page, parsed and kept where it arrives (`path` names the list in errors).
    pub(super) async fn fetch_page<T, U>(
        &self,
        path: &str,
        url: url::Url,
        keep: impl Fn(Collection<T>) -> Vec<U>,
    ) -> Result<Kept<U>, ProviderError>
    where
        T: DeserializeOwned + Identified,
    {
        let resp = self.client.get(url, MEDIA).await?;
        let page = resp.parse::<Collection<T>>().map_err(|e| {
            self.client.protocol(
                &format!("GET {path}"),
                format!("not a Contentful collection: {e}"),
            )
        })?;
        Ok(Kept {
            total: page.total,
            page: paging::Page {
                ids: page.items.iter().map(Identified::id).collect(),
                items: keep(page),
            },
        })
    }
}
